"""Führt course/preemption.py mit der Musterlösung vor: zweimal SIGTERM, dann ein zweiter Start."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]


def yes(condition):
    return "ja" if condition else "nein"


def run(folder, checkpoint, weights, *options):
    """Ein Start des Trainings; gibt Ausgabe und Exit-Status zurück."""
    job = subprocess.run([sys.executable, "-m", "course.preemption", str(ROOT / "solutions" / "robust.py"),
                          checkpoint, weights, *options],
                         cwd=folder, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    return job.stdout, job.returncode


with tempfile.TemporaryDirectory() as folder:
    folder = Path(folder)
    output, status = run(folder, "stand.pt", "unterbrochen.pt", "--sigterm-bei", "250")
    print("1. Start, zweimal SIGTERM nach Schritt 250:")
    print("   " + output.rstrip().replace("\n", "\n   ") + f"\n   Exit-Status {status}")
    step = torch.load(folder / "stand.pt", weights_only=True)["step"]
    print(f"   Der Checkpoint lädt mit weights_only=True und steht bei Schritt {step}.")

    output, status = run(folder, "stand.pt", "fortgesetzt.pt")
    print("2. Start:")
    print("   " + output.rstrip().replace("\n", "\n   ") + f"\n   Exit-Status {status}")

    run(folder, "ohne.pt", "ohne_unterbrechung.pt")
    same = all(torch.equal(a, b) for a, b in zip(torch.load(folder / "fortgesetzt.pt").values(),
                                                 torch.load(folder / "ohne_unterbrechung.pt").values()))
    print(f"Gewichte am Ende bitgenau wie bei einem Lauf ohne Unterbrechung: {yes(same)}.")
