"""Warum der Optimiererzustand in den Checkpoint gehört: Fortsetzen mit und ohne ihn."""

import copy

import torch
from torch import nn


def step(model, optimizer, seed):
    generator = torch.Generator().manual_seed(seed)
    inputs, targets = torch.randn(32, 4, generator=generator), torch.randn(32, 1, generator=generator)
    optimizer.zero_grad()
    nn.functional.mse_loss(model(inputs), targets).backward()
    optimizer.step()


torch.manual_seed(0)
model = nn.Linear(4, 1)
optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
for seed in range(5):
    step(model, optimizer, seed)

# Der Checkpoint nach fünf Schritten: einmal mit, einmal ohne Optimiererzustand.
saved_model = copy.deepcopy(model.state_dict())
saved_optimizer = copy.deepcopy(optimizer.state_dict())

# Ohne Unterbrechung: fünf weitere Schritte.
for seed in range(5, 10):
    step(model, optimizer, seed)

for with_optimizer_state in (True, False):
    resumed = nn.Linear(4, 1)
    resumed.load_state_dict(saved_model)
    resumed_optimizer = torch.optim.Adam(resumed.parameters(), lr=0.1)
    if with_optimizer_state:
        resumed_optimizer.load_state_dict(saved_optimizer)
    for seed in range(5, 10):
        step(resumed, resumed_optimizer, seed)
    difference = (resumed.weight - model.weight).abs().max().item()
    label = "mit Optimiererzustand:" if with_optimizer_state else "ohne Optimiererzustand:"
    print(f"Fortgesetzt {label:<24} größte Abweichung der Gewichte {difference:.6f}")
