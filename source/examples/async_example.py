"""Im Hintergrund speichern: ``dcp.async_save`` mit eigener Gloo-Gruppe, immer nur eine Speicherung unterwegs.

Start: ``torchrun --standalone --nproc-per-node=2 examples/async_example.py``
"""

import os
import shutil
import tempfile

import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
from torch import nn
from torch.distributed.checkpoint.state_dict import get_state_dict
from torch.distributed.fsdp import fully_shard


def print_by_rank(text):
    """Jeder Rang liefert seinen Text; Rang 0 gibt alle der Reihe nach aus."""
    texts = [None] * dist.get_world_size()
    dist.all_gather_object(texts, text)
    if dist.get_rank() == 0:
        for rank, line in enumerate(texts):
            print(f"  Rang {rank}: {line}")


def local_copy(model):
    """Der Teil der Gewichte, den dieser Rang hält, als Kopie."""
    return {name: parameter.to_local().clone() for name, parameter in model.named_parameters()}


dist.init_process_group("gloo")
rank = dist.get_rank()
folder = [tempfile.mkdtemp() if rank == 0 else None]
dist.broadcast_object_list(folder)
save_group = dist.new_group(backend="gloo")  # nur für die Speicherungen im Hintergrund

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 8))
fully_shard(model)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)

pending, expected = None, {}
for step in range(1, 7):
    model(torch.randn(32, 64)).sum().backward()
    optimizer.step()
    optimizer.zero_grad()
    if step % 2 == 0:
        if pending is not None:
            pending.result()  # höchstens eine Speicherung gleichzeitig
        model_state, optimizer_state = get_state_dict(model, optimizer)
        path = os.path.join(folder[0], f"schritt-{step:06d}")
        pending = dcp.async_save({"model": model_state, "optimizer": optimizer_state},
                                 checkpoint_id=path, process_group=save_group)
        expected[path] = local_copy(model)  # so sahen die Gewichte beim Aufruf aus
        # ... und das Training geht sofort weiter und verändert die Gewichte.
pending.result()  # vor dem Ende: die letzte Speicherung abwarten

results = []
for path, weights in expected.items():
    model_state, _ = get_state_dict(model, optimizer)
    dcp.load({"model": model_state}, checkpoint_id=path)
    same = all(torch.equal(model_state[name].to_local(), value) for name, value in weights.items())
    results.append(f"{os.path.basename(path)} {'bitgleich' if same else 'ANDERS'}")
print_by_rank("Gewichte beim Aufruf von async_save gegen Checkpoint: " + ", ".join(results))
if rank == 0:
    print("vollständig (mit .metadata):", sorted(
        name for name in os.listdir(folder[0]) if os.path.exists(os.path.join(folder[0], name, ".metadata"))))
dist.barrier()
if rank == 0:
    shutil.rmtree(folder[0])
dist.destroy_process_group()
