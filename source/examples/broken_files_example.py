"""Welche Ausnahme löst welche kaputte Checkpoint-Datei aus? Ausgeführt beim Bauen der Lektion."""

import collections
import io
import random
import tempfile
import textwrap
from pathlib import Path

import torch
from torch import nn


def build(classes=3, seed=0):
    """Ein kleines Modell mit Adam nach einem Trainingsschritt; ``classes`` ändert die letzte Schicht."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, classes))
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.randn(16, 4)).pow(2).mean().backward()
    optimizer.step()
    return model, optimizer


def checkpoint_of(model, optimizer):
    return {"epoch": 1, "model_state_dict": model.state_dict(), "optimizer_state_dict": optimizer.state_dict()}


def serialized(obj):
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def load_like_load_checkpoint(filename):
    """Dieselben Schritte wie ``load_checkpoint``; gibt zurück, welche Ausnahme wo auftrat."""
    steps = [
        ("torch.load", lambda: torch.load(filename, weights_only=True)),
        ("checkpoint[...]", lambda: [loaded[key] for key in ("epoch", "model_state_dict", "optimizer_state_dict")]),
        ("model.load_state_dict", lambda: fresh_model.load_state_dict(loaded["model_state_dict"])),
        ("optimizer.load_state_dict", lambda: fresh_optimizer.load_state_dict(loaded["optimizer_state_dict"])),
    ]
    loaded = None
    for name, step in steps:
        try:
            result = step()
        except Exception as error:
            return type(error), name
        if name == "torch.load":
            loaded = result
            fresh_model, fresh_optimizer = build()  # erst jetzt: nur wenige Dateien kommen so weit
    return None, "lädt ohne Fehler"


model, optimizer = build()
good = serialized(checkpoint_of(model, optimizer))
other_model, other_optimizer = build(classes=5, seed=1)
missing_key = checkpoint_of(model, optimizer)
del missing_key["epoch"]
wider = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3), nn.Linear(3, 3))

# Jede Art von Datei als Liste von Inhalten (mehrere, wo das Ergebnis vom Inhalt abhängt).
kinds = {
    "fehlt": [None],
    "ist ein Ordner": ["Ordner"],
    "ist leer (0 Byte)": [b""],
    f"abgeschnitten (alle {len(good) - 1} Stellen)": [good[:cut] for cut in range(1, len(good))],
    "Text 'hallo welt\\n'": [b"hallo welt\n"],
    "Text 'Hallo Welt\\n'": [b"Hallo Welt\n"],
    "Zufallsbytes (200 Dateien)": [random.Random(seed).randbytes(1000) for seed in range(200)],
    "ganzes Modell (torch.save(model))": [serialized(model)],
    "kein Dictionary (eine Liste)": [serialized([1, 2, 3])],
    "Schlüssel 'epoch' fehlt": [serialized(missing_key)],
    "Modell anderer Architektur": [serialized(checkpoint_of(other_model, other_optimizer))],
    "Modell passt, Optimierer nicht": [serialized({**checkpoint_of(model, optimizer),
                                                    "optimizer_state_dict": torch.optim.Adam(wider.parameters()).state_dict()})],
}
print("torch", torch.__version__)
print()
print(f"{'Datei':<36}  {'Ausnahme':<24}  Schritt")
raised = set()
with tempfile.TemporaryDirectory() as workdir:
    for kind, contents in kinds.items():
        outcomes = collections.Counter()
        for content in contents:
            path = Path(workdir) / "checkpoint.pth"
            path.unlink(missing_ok=True)
            if content == "Ordner":
                path.mkdir()
            elif content is not None:
                path.write_bytes(content)
            outcomes[load_like_load_checkpoint(path)] += 1
            if path.is_dir():
                path.rmdir()
        for index, ((error, step), count) in enumerate(sorted(outcomes.items(), key=lambda item: -item[1])):
            name = error.__name__ if error else "keine"
            if error is not None:
                raised.add(error)
            label = f"{name} ({count}×)" if len(outcomes) > 1 else name
            print(f"{kind if index == 0 else '':<36}  {label:<24}  {step}")

names = ", ".join(sorted(error.__name__ for error in raised))
print()
print(f"{len(raised)} verschiedene Ausnahmen:")
print(textwrap.fill(names, width=90, initial_indent="  ", subsequent_indent="  "))
print("Alle sind Unterklassen von Exception:", all(issubclass(error, Exception) for error in raised))

# load_state_dict ist nicht atomar: Was vor dem Fehler passte, ist schon kopiert.
target, _ = build()
before = {name: tensor.clone() for name, tensor in target.state_dict().items()}
try:
    target.load_state_dict(other_model.state_dict())
except RuntimeError:
    changed = [name for name, tensor in target.state_dict().items() if not torch.equal(tensor, before[name])]
    print(f"Nach dem RuntimeError haben schon {len(changed)} von {len(before)} Tensoren des Modells neue Werte:")
    print(" ", ", ".join(changed))
else:
    print("load_state_dict lädt die andere Architektur ohne Fehler.")

try:
    build()[0].load_state_dict(other_model.state_dict(), strict=False)
except RuntimeError:
    print("Mit strict=False meldet load_state_dict bei anderer Architektur ebenfalls einen RuntimeError.")
else:
    print("Mit strict=False lädt load_state_dict die andere Architektur ohne Fehler.")
