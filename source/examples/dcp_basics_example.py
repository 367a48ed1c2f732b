"""DCP mit zwei Rängen: ein mit ``fully_shard`` verteiltes Modell speichern und an Ort und Stelle laden.

Start: ``torchrun --standalone --nproc-per-node=2 examples/dcp_basics_example.py``
"""

import os
import shutil
import tempfile

import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
from torch import nn
from torch.distributed.checkpoint.state_dict import StateDictOptions, get_state_dict, set_state_dict
from torch.distributed.fsdp import fully_shard


def build(seed):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    fully_shard(model)  # jeder Rang hält die Hälfte jedes Parameters
    return model, torch.optim.AdamW(model.parameters(), lr=1e-2)


def print_by_rank(text):
    """Jeder Rang liefert seinen Text; Rang 0 gibt alle der Reihe nach aus (sonst mischen sich die Zeilen)."""
    texts = [None] * dist.get_world_size()
    dist.all_gather_object(texts, text)
    if dist.get_rank() == 0:
        for rank, line in enumerate(texts):
            print(f"  Rang {rank}: {line}")


def equal(state, other):
    """Bitgenauer Vergleich zweier (verschachtelter) Zustände; DTensors über ihren lokalen Teil."""
    if isinstance(state, dict):
        return state.keys() == other.keys() and all(equal(state[key], other[key]) for key in state)
    if isinstance(state, list):
        return len(state) == len(other) and all(map(equal, state, other))
    if isinstance(state, torch.Tensor):
        local = state.to_local() if hasattr(state, "to_local") else state
        return torch.equal(local, other.to_local() if hasattr(other, "to_local") else other)
    return state == other


dist.init_process_group("gloo")
rank = dist.get_rank()
folder = [tempfile.mkdtemp() if rank == 0 else None]
dist.broadcast_object_list(folder)  # alle Ränge schreiben in denselben Ordner
checkpoint = os.path.join(folder[0], "schritt-000001")

model, optimizer = build(seed=0)
model(torch.randn(4, 8)).sum().backward()
optimizer.step()
model_state, optimizer_state = get_state_dict(model, optimizer)
weight = model_state["0.weight"]
if rank == 0:
    print("get_state_dict: Schlüssel", list(model_state), "und", list(optimizer_state["state"])[:2], "...")
print_by_rank(f"0.weight ist ein {type(weight).__name__} der Form {tuple(weight.shape)}, "
              f"dieser Rang hält {tuple(weight.to_local().shape)}")

dcp.save({"model": model_state, "optimizer": optimizer_state}, checkpoint_id=checkpoint)
if rank == 0:
    print("Dateien:", ", ".join(f"{name} ({os.path.getsize(os.path.join(checkpoint, name))} Bytes)"
                                for name in sorted(os.listdir(checkpoint))))

# Laden, falsch: Ein frisch gebauter Optimierer hat noch keinen Zustand, dcp.load füllt also nichts.
fresh_model, fresh_optimizer = build(seed=1)
template = {"model": fresh_model.state_dict(), "optimizer": fresh_optimizer.state_dict()}
dcp.load(template, checkpoint_id=checkpoint)
print_by_rank(f"mit optimizer.state_dict(): {len(template['optimizer']['state'])} Einträge im Zustand geladen, "
              "kein Fehler")

# Laden, richtig: get_state_dict legt den Zustand an (leere Momente, volle Namen), dcp.load füllt ihn.
fresh_model, fresh_optimizer = build(seed=1)
model_template, optimizer_template = get_state_dict(fresh_model, fresh_optimizer)
template = {"model": model_template, "optimizer": optimizer_template}
dcp.load(template, checkpoint_id=checkpoint)
set_state_dict(fresh_model, fresh_optimizer,
               model_state_dict=template["model"], optim_state_dict=template["optimizer"])
loaded_model, loaded_optimizer = get_state_dict(fresh_model, fresh_optimizer)
print_by_rank(f"mit get_state_dict: {len(optimizer_template['state'])} Einträge geladen, Modell bitgleich: "
              f"{equal(loaded_model, model_state)}, Optimierer bitgleich: {equal(loaded_optimizer, optimizer_state)}")

# Der ganze Zustand in einem Prozess: einsammeln auf Rang 0, im Arbeitsspeicher der CPU.
full = StateDictOptions(full_state_dict=True, cpu_offload=True)
full_model, _ = get_state_dict(model, optimizer, options=full)
print_by_rank(f"full_state_dict=True, cpu_offload=True: {len(full_model)} Tensoren"
              + (f", 0.weight als {type(full_model['0.weight']).__name__} der Form "
                 f"{tuple(full_model['0.weight'].shape)}" if full_model else ""))

dist.barrier()
if rank == 0:
    shutil.rmtree(folder[0])
dist.destroy_process_group()
