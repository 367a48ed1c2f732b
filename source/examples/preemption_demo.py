"""Führt preemption_example.py vor: SIGTERM mitten im Training, dann ein zweiter Start."""

import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from preemption_example import STEPS

SCRIPT = Path(__file__).with_name("preemption_example.py")


def yes(condition):
    return "ja" if condition else "nein"


def start(checkpoint, weights):
    return subprocess.Popen([sys.executable, str(SCRIPT), str(checkpoint), str(weights)],
                            stdout=subprocess.PIPE, text=True)


with tempfile.TemporaryDirectory() as folder:
    folder = Path(folder)
    job = start(folder / "stand.pt", folder / "unterbrochen.pt")
    assert job.stdout.readline() == "Training läuft.\n"
    job.send_signal(signal.SIGTERM)
    job.send_signal(signal.SIGTERM)  # ein zweites Signal, etwa weil jemand ungeduldig ist
    job.stdout.read()
    print(f"1. Start: zwei SIGTERM gesendet, Exit-Status {job.wait()}.")
    step = torch.load(folder / "stand.pt", weights_only=True)["step"]
    print(f"   Der Checkpoint lädt mit weights_only=True; gespeichert mitten im Training: {yes(0 < step < STEPS)}.")

    job = start(folder / "stand.pt", folder / "fortgesetzt.pt")
    first_line = job.stdout.readline()
    job.stdout.read()
    print(f"2. Start: fortgesetzt beim gespeicherten Schritt: {yes(first_line == f'Fortgesetzt nach Schritt {step}.' + chr(10))}, "
          f"Exit-Status {job.wait()}.")

    job = start(folder / "ohne.pt", folder / "ohne_unterbrechung.pt")
    job.stdout.read()
    job.wait()
    same = all(torch.equal(a, b) for a, b in zip(torch.load(folder / "fortgesetzt.pt").values(),
                                                 torch.load(folder / "ohne_unterbrechung.pt").values()))
    print(f"Gewichte am Ende bitgleich mit einem Lauf ohne Unterbrechung: {yes(same)}.")
