"""Einen DCP-Checkpoint in eine einzelne Datei umwandeln und zurück – als Funktion und auf der Kommandozeile."""

import logging
import os
import subprocess
import sys
import tempfile
import warnings

import torch
import torch.distributed.checkpoint as dcp
from torch.distributed.checkpoint.api import CheckpointException
from torch.distributed.checkpoint.format_utils import dcp_to_torch_save, torch_save_to_dcp

warnings.filterwarnings("ignore", message="torch.distributed is disabled")  # ein Prozess ist hier gewollt


def describe(value, indent="  "):
    """Die verschachtelte Struktur: Schlüssel, bei Tensoren die Form."""
    for key, item in value.items():
        if isinstance(item, dict):
            print(f"{indent}{key}:")
            describe(item, indent + "  ")
        else:
            print(f"{indent}{key}: {f'Tensor {tuple(item.shape)}' if isinstance(item, torch.Tensor) else repr(item)}")


def cli(*arguments):
    """``python -m torch.distributed.checkpoint.format_utils …`` in einem eigenen Prozess."""
    result = subprocess.run([sys.executable, "-m", "torch.distributed.checkpoint.format_utils", *arguments],
                            capture_output=True, text=True)
    last = (result.stderr or result.stdout).strip().splitlines()[-1]
    print(f"  format_utils {' '.join(arguments)}\n    Status {result.returncode}: {last}")


with tempfile.TemporaryDirectory() as folder:
    os.chdir(folder)
    state = {"model": {"0.weight": torch.randn(4, 3), "0.bias": torch.zeros(4)}, "step": 100,
             "rng": {"rang-0": torch.get_rng_state(), "rang-1": torch.get_rng_state()}}
    dcp.save(state, checkpoint_id="schritt-000100")

    dcp_to_torch_save("schritt-000100", "schritt-000100.pt")
    print("dcp_to_torch_save, danach torch.load(..., weights_only=True):")
    describe(torch.load("schritt-000100.pt", weights_only=True))

    torch_save_to_dcp("schritt-000100.pt", "zurueck")
    print("torch_save_to_dcp:", sorted(os.listdir("zurueck")))

    print("Kommandozeile:")
    cli("dcp_to_torch", "schritt-000100", "ganz.pt")
    cli("-m", "schritt-000100", "ganz.pt", "dcp_to_torch")  # die Reihenfolge aus dem Rezept
    cli("dcp_to_torch", "schritt-999999", "ganz.pt")  # ein Ordner, den es nicht gibt

    logging.disable(logging.WARNING)  # DCP schreibt beim Scheitern zusätzlich Tracebacks ins Log
    try:
        dcp_to_torch_save("schritt-000100.pt", "schritt-000100_neu")  # „zurück“ wie im Rezept
    except CheckpointException as error:
        print("dcp_to_torch_save mit einer Datei als Quelle:", type(error).__name__)
        cause, _ = error.failures[0]  # je Rang die eigentliche Ausnahme und ihr Traceback
        print(f"  Rang 0: {type(cause).__name__}: {str(cause).split(';')[1].strip()}")
    print("CheckpointException ist eine Unterklasse von Exception:", issubclass(CheckpointException, Exception))
