"""Ein Checkpoint von zwei Rängen, geladen in einem einzigen Prozess ohne Prozessgruppe.

Start: ``torchrun --standalone --nproc-per-node=2 examples/reshard_example.py``
"""

import os
import shutil
import tempfile
import warnings

import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
from torch import nn
from torch.distributed.checkpoint.state_dict import StateDictOptions, get_state_dict, set_state_dict
from torch.distributed.fsdp import fully_shard


def build(seed, shard):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    if shard:
        fully_shard(model)  # vor dem Optimierer: er soll die verteilten Parameter kennen
    return model, torch.optim.AdamW(model.parameters(), lr=1e-2)


dist.init_process_group("gloo")
rank = dist.get_rank()
folder = [tempfile.mkdtemp() if rank == 0 else None]
dist.broadcast_object_list(folder)
checkpoint = os.path.join(folder[0], "schritt-000003")

model, optimizer = build(seed=0, shard=True)
for _ in range(3):
    model(torch.randn(4, 8)).sum().backward()
    optimizer.step()
    optimizer.zero_grad()
model_state, optimizer_state = get_state_dict(model, optimizer)
dcp.save({"model": model_state, "optimizer": optimizer_state}, checkpoint_id=checkpoint)
# Zum Vergleich: der ganze Zustand, auf Rang 0 gesammelt.
full = StateDictOptions(full_state_dict=True, cpu_offload=True)
full_model, full_optimizer = get_state_dict(model, optimizer, options=full)
dist.destroy_process_group()  # ab hier ist jeder Prozess allein

if rank == 0:
    warnings.filterwarnings("ignore", message="torch.distributed is disabled")  # ein Prozess ist hier gewollt
    single, single_optimizer = build(seed=1, shard=False)  # ein gewöhnliches Modell, nicht verteilt
    single_model_state, single_optimizer_state = get_state_dict(single, single_optimizer)
    template = {"model": single_model_state, "optimizer": single_optimizer_state}
    dcp.load(template, checkpoint_id=checkpoint)  # ohne Prozessgruppe liest ein Prozess alle Teile
    set_state_dict(single, single_optimizer,
                   model_state_dict=template["model"], optim_state_dict=template["optimizer"])
    print("Dateien des Checkpoints:", sorted(os.listdir(checkpoint)))
    print("0.weight im einen Prozess:", type(single[0].weight).__name__, tuple(single[0].weight.shape))
    print("Modell bitgleich mit dem gesammelten Zustand:",
          all(torch.equal(single.state_dict()[name], value) for name, value in full_model.items()))
    loaded = single_optimizer.state_dict()["state"]  # nach Nummern, wie ein gewöhnlicher Optimierer
    print("Optimierer bitgleich:", all(
        torch.equal(loaded[number][key], full_optimizer["state"][name][key])
        for number, name in enumerate(full_model) for key in ("exp_avg", "exp_avg_sq", "step")))
    shutil.rmtree(folder[0])
