"""Werte, die je Rang verschieden sind, unter einem gemeinsamen Schlüssel: DCP schreibt nur einen davon.

Start: ``torchrun --standalone --nproc-per-node=2 examples/rng_example.py``
"""

import os
import shutil
import tempfile

import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp


def print_by_rank(text):
    """Jeder Rang liefert seinen Text; Rang 0 gibt alle der Reihe nach aus."""
    texts = [None] * dist.get_world_size()
    dist.all_gather_object(texts, text)
    if dist.get_rank() == 0:
        for rank, line in enumerate(texts):
            print(f"  Rang {rank}: {line}")


dist.init_process_group("gloo")
rank = dist.get_rank()
folder = [tempfile.mkdtemp() if rank == 0 else None]
dist.broadcast_object_list(folder)

torch.manual_seed(100 + rank)  # z. B. für Dropout: jeder Rang zieht andere Zufallszahlen
own = torch.get_rng_state()
state = {
    "rng": own,  # ein Schlüssel für alle Ränge
    "rng_je_rang": {f"rang-{rank}": own},  # ein eigener Schlüssel je Rang
    "schritt_dieses_rangs": 10 + rank,  # auch ein Wert, der nur auf diesem Rang gilt
}
dcp.save(state, checkpoint_id=os.path.join(folder[0], "ckpt"))

template = {"rng": torch.zeros_like(own), "rng_je_rang": {f"rang-{rank}": torch.zeros_like(own)},
            "schritt_dieses_rangs": -1}
dcp.load(template, checkpoint_id=os.path.join(folder[0], "ckpt"))
print_by_rank(f"'rng' ist der eigene Zustand: {torch.equal(template['rng'], own)}; "
              f"'rng_je_rang' ist der eigene Zustand: {torch.equal(template['rng_je_rang'][f'rang-{rank}'], own)}; "
              f"'schritt_dieses_rangs' = {template['schritt_dieses_rangs']} (gespeichert: {10 + rank})")

if rank == 0:  # Was steht in der Datei .metadata? Die Schlüssel, flach mit Punkten.
    metadata = dcp.FileSystemReader(os.path.join(folder[0], "ckpt")).read_metadata()
    print("Schlüssel im Checkpoint:", sorted(metadata.state_dict_metadata))
dist.barrier()
if rank == 0:
    shutil.rmtree(folder[0])
dist.destroy_process_group()
