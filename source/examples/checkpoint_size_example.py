"""Wie groß ein Checkpoint wird: Gewichte, Adam-Zustand und Views, die ihren ganzen Speicher mitnehmen."""

import os
import tempfile

import torch
from torch import nn


def megabytes(path):
    return os.path.getsize(path) / 1e6


def german(value, digits=1):
    return f"{value:.{digits}f}".replace(".", ",")


torch.manual_seed(0)
model = nn.Sequential(nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 1024))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
parameters = sum(parameter.numel() for parameter in model.parameters())
print(f"Parameter: {parameters:,}".replace(",", "."), f"({german(parameters * 4 / 1e6)} MB in float32)")

with tempfile.TemporaryDirectory() as folder:
    weights = os.path.join(folder, "gewichte.pt")
    before_step = os.path.join(folder, "vor_dem_ersten_schritt.pt")
    after_step = os.path.join(folder, "nach_einem_schritt.pt")
    torch.save(model.state_dict(), weights)
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, before_step)
    model(torch.randn(8, 1024)).sum().backward()
    optimizer.step()  # erst jetzt legt Adam exp_avg und exp_avg_sq an
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, after_step)
    print(f"nur Gewichte:                     {german(megabytes(weights)):>6} MB")
    print(f"mit Adam vor dem ersten Schritt:  {german(megabytes(before_step)):>6} MB")
    print(f"mit Adam nach einem Schritt:      {german(megabytes(after_step)):>6} MB"
          f" = {german(megabytes(after_step) / megabytes(weights), 2)} × nur Gewichte")

    # Ein View teilt den Speicher seines Tensors: torch.save schreibt den ganzen Speicher.
    big = torch.randn(10_000_000)
    view = big[:10]
    view_file = os.path.join(folder, "view.pt")
    clone_file = os.path.join(folder, "kopie.pt")
    torch.save(view, view_file)
    torch.save(view.clone(), clone_file)
    print(f"10 Zahlen als View von 10 Mio.:   {german(megabytes(view_file)):>6} MB")
    print(f"dieselben 10 Zahlen nach clone(): {german(os.path.getsize(clone_file) / 1e3):>6} kB")
