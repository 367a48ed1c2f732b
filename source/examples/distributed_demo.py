"""Führt die verteilte Trainingsdemo mit der Musterlösung vor: SIGTERM nach Schritt 55, dann ein zweiter Start."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]


def run(folder, *options):
    """Ein Start der Demo mit zwei Rängen; gibt Ausgabe und Exit-Status zurück."""
    job = subprocess.run([sys.executable, "-m", "course.distributed_training", "--loesung", "--schritte", "120",
                          "--alle", "40", *options],
                         cwd=folder, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    return job.stdout, job.returncode


def equal(state, other):
    if isinstance(state, dict):
        return state.keys() == other.keys() and all(equal(state[key], other[key]) for key in state)
    if isinstance(state, list):
        return len(state) == len(other) and all(map(equal, state, other))
    return torch.equal(state, other) if isinstance(state, torch.Tensor) else state == other


with tempfile.TemporaryDirectory() as folder:
    folder = Path(folder)
    for number, options in enumerate((["--sigterm-bei", "55"], ["--gewichte", "fortgesetzt.pt"]), start=1):
        output, status = run(folder, *options)
        print(f"{number}. Start{', SIGTERM nach Schritt 55' if number == 1 else ''}:")
        print("   " + output.rstrip().replace("\n", "\n   ") + f"\n   Exit-Status {status}")
        if number == 1:
            print("   Im Ordner:", ", ".join(sorted(path.name for path in (folder / "checkpoints-verteilt").iterdir())))

    run(folder, "--ordner", "ohne-unterbrechung", "--gewichte", "ohne_unterbrechung.pt")
    same = equal(torch.load(folder / "fortgesetzt.pt", weights_only=True),
                 torch.load(folder / "ohne_unterbrechung.pt", weights_only=True))
    print(f"Modell und Optimierer am Ende bitgenau wie bei einem Lauf ohne Unterbrechung: {'ja' if same else 'nein'}.")
