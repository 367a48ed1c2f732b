"""Der beste Checkpoint mit mode="min" und mode="max": Gleichstand, NaN und ein Neustart."""

import math
import tempfile

import torch

from solutions.verwaltung import CheckpointManager

history = [  # (Schritt, Messwerte) wie nach jeder Validierung
    (100, {"val_loss": 0.80, "val_acc": 0.71}),
    (200, {"val_loss": 0.62, "val_acc": 0.80}),
    (300, {"val_loss": math.nan, "val_acc": math.nan}),  # etwa nach einem Überlauf
    (400, {"val_loss": 0.62, "val_acc": 0.80}),  # Gleichstand mit Schritt 200
    (500, {"val_loss": 0.70, "val_acc": 0.77}),
]

with tempfile.TemporaryDirectory() as folder:
    for monitor, mode in (("val_loss", "min"), ("val_acc", "max")):
        manager = CheckpointManager(f"{folder}/{mode}", keep=2, monitor=monitor, mode=mode)
        for step, metrics in history:
            manager.save(step, {"gewicht": torch.zeros(3)}, metrics)
        path, value = manager.best()
        print(f"monitor={monitor!r}, mode={mode!r}: bester {path.name} mit {value}")

    # Neustart: ein neuer Manager liest die Werte aus den Dateien im Ordner.
    restarted = CheckpointManager(f"{folder}/min", keep=2)
    path, value = restarted.best()
    print("nach dem Neustart:", path.name, value)
    print("gespeichert in der Datei:", torch.load(path, weights_only=True)["metrics"])

    only_nan = CheckpointManager(f"{folder}/nan", keep=2)
    only_nan.save(100, {}, {"val_loss": math.nan})
    print("nur NaN:", only_nan.best())
