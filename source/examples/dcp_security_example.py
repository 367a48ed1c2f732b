"""Ein DCP-Checkpoint aus fremder Quelle kann beim Laden Code ausführen: ``.metadata`` ist pickle.

Statt Schadcode legt jede präparierte Datei hier nur eine Markierungsdatei an.
"""

import logging
import os
import pickle
import tempfile
import warnings

import torch
import torch.distributed.checkpoint as dcp
from torch.distributed.checkpoint.api import CheckpointException
from torch.distributed.checkpoint.format_utils import torch_save_to_dcp

warnings.filterwarnings("ignore", message="torch.distributed is disabled")  # ein Prozess ist hier gewollt
logging.disable(logging.WARNING)  # DCP schreibt beim Scheitern zusätzlich Tracebacks ins Log


class Payload:
    """Beim Entpacken ruft pickle ``open(markierung, "w")`` auf – ebenso gut könnte es ``os.system`` sein."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return open, (self.marker, "w")


def report(label, marker, action):
    try:
        action()
        outcome = "geladen"
    except (Exception, CheckpointException) as error:  # CheckpointException ist keine Exception
        outcome = f"{type(error).__name__}"
    print(f"{label}: {outcome}; Code aus der Datei ausgeführt: {os.path.exists(marker)}")


with tempfile.TemporaryDirectory() as folder:
    os.chdir(folder)

    # 1. Eine präparierte Datei .metadata neben einem sonst leeren Ordner.
    os.mkdir("fremd")
    with open("fremd/.metadata", "wb") as file:
        pickle.dump(Payload("markierung-1"), file)
    report("dcp.load mit präparierter .metadata", "markierung-1",
           lambda: dcp.load({"model": {"weight": torch.zeros(2)}}, checkpoint_id="fremd"))

    # 2. Ein Wert, der kein Tensor ist: DCP speichert ihn mit torch.save und lädt ihn mit weights_only=False.
    dcp.save({"notiz": Payload("markierung-2")}, checkpoint_id="mit-objekt")
    report("dcp.load eines Werts, der kein Tensor ist", "markierung-2",
           lambda: dcp.load({"notiz": None}, checkpoint_id="mit-objekt"))

    # 3. torch_save_to_dcp lädt die Quelldatei mit torch.load(..., weights_only=False).
    torch.save({"gewicht": torch.zeros(2), "notiz": Payload("markierung-3")}, "fremd.pt")
    report("torch_save_to_dcp einer präparierten .pt-Datei", "markierung-3",
           lambda: torch_save_to_dcp("fremd.pt", "umgewandelt"))

    # Zum Vergleich: eine ebenso präparierte .pt-Datei mit torch.load und weights_only=True.
    torch.save({"gewicht": torch.zeros(2), "notiz": Payload("markierung-4")}, "fremd-2.pt")
    report("torch.load(..., weights_only=True) einer solchen Datei", "markierung-4",
           lambda: torch.load("fremd-2.pt", weights_only=True))
    print("… und dabei entstanden:", sorted(name for name in os.listdir() if name.startswith("markierung")))
