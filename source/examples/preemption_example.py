"""Ein Training, das SIGTERM übersteht: merken, an der nächsten Schrittgrenze speichern, mit 0 enden."""

import signal
import sys
from pathlib import Path

import torch
from torch import nn

from atomic_save_example import atomic_torch_save

STEPS = 800


class StopRequest:
    """Der Signal-Handler merkt sich nur das Signal; gespeichert wird in der Schleife."""

    def __init__(self):
        self.signals = 0
        signal.signal(signal.SIGTERM, self.remember)

    def remember(self, number, frame):
        self.signals += 1  # ein zweites SIGTERM unterbricht nichts, es zählt nur mit


def train(path, stop):
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    step = 0
    if Path(path).exists():
        checkpoint = torch.load(path, weights_only=True)
        model.load_state_dict(checkpoint["model_state_dict"])
        optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
        step = checkpoint["step"]
        print(f"Fortgesetzt nach Schritt {step}.", flush=True)
    while step < STEPS:
        data = torch.Generator().manual_seed(step)  # die Daten jedes Schritts hängen nur von ihm ab
        inputs = torch.randn(64, 32, generator=data)
        optimizer.zero_grad()
        nn.functional.mse_loss(model(inputs), inputs.sum(dim=1, keepdim=True)).backward()
        optimizer.step()
        step += 1
        if step == 1:
            print("Training läuft.", flush=True)
        if stop.signals:  # die Schrittgrenze: Modell und Optimierer sind in sich stimmig
            atomic_torch_save({"step": step, "model_state_dict": model.state_dict(),
                               "optimizer_state_dict": optimizer.state_dict()}, path)
            print(f"SIGTERM erhalten: Stand nach Schritt {step} gespeichert.", flush=True)
            return model, 0
    return model, 0


if __name__ == "__main__":
    model, status = train(sys.argv[1], StopRequest())
    torch.save(model.state_dict(), sys.argv[2])
    sys.exit(status)
