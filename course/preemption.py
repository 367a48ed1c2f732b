"""Ein Training, das SIGTERM übersteht – mit der Funktion ``atomic_save`` aus Aufgabe 5.

``python -m course.preemption MODUL CHECKPOINT GEWICHTE`` trainiert ein kleines Netz, speichert mit
``atomic_save`` aus der Datei MODUL (etwa ``exercises/robust.py``) alle ``SAVE_EVERY`` Schritte und
bei ``SIGTERM``, setzt beim nächsten Start dort fort und schreibt am Ende die Gewichte nach GEWICHTE. Mit ``--sigterm-bei SCHRITT`` schickt sich das Training nach
diesem Schritt selbst zweimal ``SIGTERM``, wie es ein Batch-System tut – nur vorhersagbar.
"""

import argparse
import importlib.util
import os
import signal
import sys

import torch
from torch import nn

STEPS = 800
SAVE_EVERY = 100


class SigtermFlag:
    """Der Signal-Handler merkt sich nur das Signal; gespeichert wird in der Schleife."""

    def __init__(self):
        self.signals = 0
        signal.signal(signal.SIGTERM, self.remember)

    def remember(self, number, frame):
        self.signals += 1  # ein zweites SIGTERM unterbricht nichts, es zählt nur mit


def build():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 1))
    return model, torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)


def resume(model, optimizer, path):
    """Der gespeicherte Schritt nach dem Laden des Checkpoints; 0 ohne Checkpoint."""
    if not os.path.exists(path):
        print(f"Kein Checkpoint unter {path!r}: Das Training beginnt bei Schritt 0.", flush=True)
        return 0
    checkpoint = torch.load(path, weights_only=True)
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    print(f"Fortgesetzt nach Schritt {checkpoint['step']}.", flush=True)
    return checkpoint["step"]


def train(atomic_save, path, stop, steps=STEPS, sigterm_at=None):
    """Trainiert bis ``steps``; endet früher, wenn ``stop`` ein Signal vermerkt hat. Gibt das Modell zurück."""
    model, optimizer = build()
    step = resume(model, optimizer, path) if path else 0
    while step < steps:
        data = torch.Generator().manual_seed(step)  # die Daten jedes Schritts hängen nur von ihm ab
        inputs = torch.randn(64, 32, generator=data)
        optimizer.zero_grad()
        nn.functional.mse_loss(model(inputs), inputs.sum(dim=1, keepdim=True)).backward()
        optimizer.step()
        step += 1
        if step == sigterm_at:
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGTERM)  # ein zweites Signal, etwa von einem ungeduldigen Menschen
        if stop.signals or step % SAVE_EVERY == 0:  # an der Schrittgrenze ist alles in sich stimmig
            atomic_save({"step": step, "model_state_dict": model.state_dict(),
                         "optimizer_state_dict": optimizer.state_dict()}, path)
            print(f"Gespeichert nach Schritt {step}.", flush=True)
        if stop.signals:
            print("SIGTERM erhalten: Das Training endet und setzt beim nächsten Start fort.", flush=True)
            break
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m course.preemption", description=__doc__.splitlines()[0])
    parser.add_argument("modul", help="Datei mit atomic_save, etwa exercises/robust.py")
    parser.add_argument("checkpoint", help="Pfad des Checkpoints")
    parser.add_argument("gewichte", help="wohin die Gewichte am Ende geschrieben werden")
    parser.add_argument("--sigterm-bei", type=int, metavar="SCHRITT", help="nach diesem Schritt SIGTERM senden")
    args = parser.parse_args(argv)
    stop = SigtermFlag()
    torch.set_num_threads(1)
    spec = importlib.util.spec_from_file_location("robust_funktionen", args.modul)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = train(module.atomic_save, args.checkpoint, stop, sigterm_at=args.sigterm_bei)
    torch.save(model.state_dict(), args.gewichte)
    return 0


if __name__ == "__main__":
    sys.exit(main())
