"""Was ``torch.load(..., weights_only=True)`` zulässt – und wie lange ein zusätzlich erlaubter Typ erlaubt bleibt."""

import argparse
import io
import re
from collections import OrderedDict

import numpy as np
import torch


def saved(obj):
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def try_loading(title, data):
    try:
        torch.load(io.BytesIO(data), weights_only=True)
        print(f"{title}: geladen")
    except Exception as error:
        found = re.search(r"GLOBAL ([\w.]+)|got <class '([\w.]+)'>", str(error))
        print(f"{title}: abgelehnt, Typ {found.group(1) or found.group(2)}")


# Zugelassen: Tensoren, einfache Werte und Container, einige torch-Typen.
try_loading("Tensoren, einfache Werte, torch.device und torch.dtype", saved(
    {"gewichte": OrderedDict(w=torch.ones(2)), "epoche": 7, "name": "lauf-1", "kennung": b"\x01", "menge": {1, 2},
     "form": torch.Size([2, 3]), "geraet": torch.device("cpu"), "dtype": torch.float32}))
# Abgelehnt: alles andere, etwa die Kommandozeilenargumente eines Trainingsskripts.
mit_args = saved({"epoche": 7, "args": argparse.Namespace(lr=0.01)})
try_loading("Mit argparse.Namespace", mit_args)

# Für ein einziges Laden erlauben: safe_globals als with-Block.
with torch.serialization.safe_globals([argparse.Namespace]):
    try_loading("Im with-Block safe_globals([argparse.Namespace])", mit_args)
print("Danach erlaubt?", argparse.Namespace in torch.serialization.get_safe_globals())

# add_safe_globals gilt dagegen für den Rest des Prozesses – für jedes spätere Laden.
torch.serialization.add_safe_globals([argparse.Namespace])
print("Nach add_safe_globals erlaubt?", argparse.Namespace in torch.serialization.get_safe_globals())

# get_unsafe_globals_in_checkpoint liest die Datei, ohne sie zu laden – und übersieht Typen.
numpy_zustand = saved({"numpy": np.random.get_state()})
genannt = sorted(torch.serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(numpy_zustand)))
print("Genannte Typen:", genannt)
erlaubt = [np.ndarray, np.dtype, np._core.multiarray._reconstruct]
with torch.serialization.safe_globals(erlaubt):
    try_loading("Mit genau diesen Typen erlaubt", numpy_zustand)
