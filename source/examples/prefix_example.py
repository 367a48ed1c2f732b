"""Präfixe in den Schlüsseln: DataParallel/DDP (module.) und torch.compile (_orig_mod.)."""

import torch
from torch import nn
from torch.nn.modules.utils import consume_prefix_in_state_dict_if_present


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.submodule = nn.Linear(6, 12)
        self.head = nn.Linear(12, 5)


model = Classifier()
print("Modell:        ", list(model.state_dict()))
print("DataParallel:  ", list(nn.DataParallel(model).state_dict()))
print("torch.compile: ", list(torch.compile(model).state_dict()))

state = nn.DataParallel(model).state_dict()
print("Mit replace:   ", [key.replace("module.", "") for key in state])
consume_prefix_in_state_dict_if_present(state, "module.")
print("Präfix vorne:  ", list(state))
