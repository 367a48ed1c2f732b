"""Ein Stateful-Objekt: DCP fragt es selbst nach seinem Zustand und gibt ihn ihm beim Laden zurück."""

import tempfile
import warnings

import torch
import torch.distributed.checkpoint as dcp
from torch import nn
from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict
from torch.distributed.checkpoint.stateful import Stateful


class AppState(Stateful):
    """Modell und Optimierer; ``dcp.save`` und ``dcp.load`` rufen die beiden Methoden auf."""

    def __init__(self, model, optimizer):
        self.model = model
        self.optimizer = optimizer

    def state_dict(self):
        model_state, optimizer_state = get_state_dict(self.model, self.optimizer)
        print(f"    state_dict(): {len(optimizer_state['state'])} Parameter mit Optimiererzustand")
        return {"model": model_state, "optimizer": optimizer_state}

    def load_state_dict(self, state_dict):
        moment = state_dict["optimizer"]["state"]["0.weight"]["exp_avg"]
        print(f"    load_state_dict(): Summe von exp_avg für '0.weight' {moment.abs().sum().item():.6f}")
        set_state_dict(self.model, self.optimizer,
                       model_state_dict=state_dict["model"], optim_state_dict=state_dict["optimizer"])


def build(seed):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    return model, torch.optim.Adam(model.parameters(), lr=0.1)


# Ohne Prozessgruppe warnt DCP bei jedem Aufruf, dass es in einem einzigen Prozess arbeitet; hier ist das gewollt.
warnings.filterwarnings("ignore", message="torch.distributed is disabled")

model, optimizer = build(seed=0)
model(torch.randn(5, 3)).sum().backward()
optimizer.step()
print(f"Summe von exp_avg für '0.weight' {optimizer.state[model[0].weight]['exp_avg'].abs().sum().item():.6f}")

with tempfile.TemporaryDirectory() as folder:
    print("dcp.save ruft auf:")
    dcp.save({"app": AppState(model, optimizer)}, checkpoint_id=folder)  # ohne Prozessgruppe: ein Prozess

    fresh_model, fresh_optimizer = build(seed=1)
    print("dcp.load ruft auf:")
    dcp.load({"app": AppState(fresh_model, fresh_optimizer)}, checkpoint_id=folder)

same = all(torch.equal(a, b) for a, b in zip(model.parameters(), fresh_model.parameters()))
print("Gewichte danach bitgleich:", same)
