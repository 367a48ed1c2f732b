"""Optimizer.load_state_dict passt den Zustand an Gerät und dtype der Parameter an – außer 'step'."""

import torch
from torch import nn

torch.manual_seed(0)
model = nn.Linear(3, 2)
optimizer = torch.optim.AdamW(model.parameters())
model(torch.randn(4, 3)).sum().backward()
optimizer.step()
saved = optimizer.state_dict()  # float32, wie trainiert

# Reihenfolge beim Laden: Modell bauen, auf Gerät und dtype bringen, dann den Optimierer erzeugen.
model = nn.Linear(3, 2).to(torch.float64)
optimizer = torch.optim.AdamW(model.parameters())
optimizer.load_state_dict(saved)
for name, value in optimizer.state[model.weight].items():
    print(f"{name:11} {value.dtype}")

# Falsch herum: erst laden, dann umwandeln – die Momente bleiben float32, der nächste Schritt scheitert.
model = nn.Linear(3, 2)
optimizer = torch.optim.AdamW(model.parameters())
optimizer.load_state_dict(saved)
model.to(torch.float64)
model(torch.randn(4, 3, dtype=torch.float64)).sum().backward()
try:
    optimizer.step()
except RuntimeError as error:
    print("Erst laden, dann .to():", type(error).__name__, "–", error)
