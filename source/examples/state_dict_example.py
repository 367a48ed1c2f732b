"""Was steht in einem state_dict? Ein kleines Modell mit BatchNorm und der Optimierer Adam."""

import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

parameter_names = {name for name, _ in model.named_parameters()}
print("model.state_dict():")
for name, tensor in model.state_dict().items():
    kind = "Parameter" if name in parameter_names else "Buffer"
    print(f"  {name:<22} {kind:<10} Form {tuple(tensor.shape)}")

# Ein Trainingsschritt, damit Adam einen Zustand anlegt.
loss = model(torch.randn(16, 4)).pow(2).mean()
loss.backward()
optimizer.step()

state = optimizer.state_dict()
print("optimizer.state_dict():", list(state))
print("  state[0]:", {key: tuple(value.shape) for key, value in state["state"][0].items()})
group = state["param_groups"][0]
print("  param_groups[0]:", {key: group[key] for key in ("lr", "betas", "params")})
