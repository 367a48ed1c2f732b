"""load_state_dict ist nicht atomar: Bevor es abbricht, hat es schon Tensoren kopiert."""

import copy

import torch
from torch import nn


def classifier(classes):
    torch.manual_seed(classes)
    return nn.Sequential(nn.Linear(6, 12), nn.ReLU(), nn.Linear(12, classes))


model = classifier(5)
before = copy.deepcopy(model.state_dict())
foreign = classifier(7).state_dict()  # gleiche Namen, aber 7 statt 5 Klassen

for strict in (True, False):
    try:
        model.load_state_dict(foreign, strict=strict)
    except RuntimeError as error:
        print(f"strict={strict}: RuntimeError –", str(error).splitlines()[1].strip())
    changed = [key for key, value in model.state_dict().items() if not torch.equal(value, before[key])]
    print("  schon überschrieben:", changed)
    model.load_state_dict(before)

# strict=False meldet fehlende und unerwartete Schlüssel, statt abzubrechen – bei passenden Formen.
renamed = {key.replace("2.", "ausgang."): value for key, value in classifier(5).state_dict().items()}
print(model.load_state_dict(renamed, strict=False))
model.load_state_dict(before)

# Die Formen seines Zustands prüft der Optimierer nicht: Der Fehler kommt erst beim nächsten Schritt.
optimizer = torch.optim.AdamW(model.parameters())
other = classifier(7)
other_optimizer = torch.optim.AdamW(other.parameters())
other(torch.randn(4, 6)).sum().backward()
other_optimizer.step()
optimizer.load_state_dict(other_optimizer.state_dict())
print("Optimiererzustand eines anderen Modells geladen, exp_avg von 2.weight:",
      list(optimizer.state[model[2].weight]["exp_avg"].shape), "statt", list(model[2].weight.shape))
model(torch.randn(4, 6)).sum().backward()
try:
    optimizer.step()
except RuntimeError as error:
    print("Nächster Schritt: RuntimeError –", error)
model.load_state_dict(before)

# Vorher prüfen: Schlüssel und Formen gegen model.state_dict() vergleichen, dann erst laden.
expected = model.state_dict()
print("Fehlende Schlüssel:", sorted(expected.keys() - foreign.keys()))
print("Unerwartete Schlüssel:", sorted(foreign.keys() - expected.keys()))
print("Andere Formen:", {key: (list(foreign[key].shape), list(value.shape))
                         for key, value in expected.items() if key in foreign and foreign[key].shape != value.shape})
