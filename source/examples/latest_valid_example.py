"""Vom neuesten gültigen Checkpoint fortsetzen: kaputte und fremde Dateien werden übersprungen."""

import tempfile
from pathlib import Path

import torch

from solutions.verwaltung import CheckpointManager

with tempfile.TemporaryDirectory() as name:
    folder = Path(name)
    manager = CheckpointManager(folder, keep=3)
    for step, loss in ((100, 0.9), (200, 0.5), (300, 0.7), (400, 0.6)):
        manager.save(step, {"gewicht": torch.full((1000,), float(step))}, {"val_loss": loss})

    newest = folder / "schritt-000400.pt"
    newest.write_bytes(newest.read_bytes()[:1000])  # abgeschnitten, etwa nach einem Absturz
    (folder / "schritt-000300.pt").write_text("kein Checkpoint\n")  # überschrieben
    torch.save({"epoch": 3}, folder / "schritt-000450.pt")  # eine fremde Datei mit passendem Namen
    (folder / ".schritt-000500.pt.k3j9x.tmp").write_bytes(b"PK\x03\x04")  # Rest nach SIGKILL
    (folder / "notizen.txt").write_text("lr 1e-3\n")

    print("im Ordner:", sorted(path.name for path in folder.iterdir()))
    print("neuester gültiger:", manager.latest_valid().name)
