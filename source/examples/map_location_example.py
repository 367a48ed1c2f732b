"""map_location: ein Checkpoint von einer GPU-Maschine auf einem Rechner ohne GPU."""

import io

import torch

from course.foreign_checkpoints import gpu_checkpoint_bytes

data = gpu_checkpoint_bytes({"gewicht": torch.ones(2, 3)})
try:
    torch.load(io.BytesIO(data), weights_only=True)
except RuntimeError as error:
    print("Ohne map_location:", str(error).split(" If you")[0])

for form in ("cpu", torch.device("cpu"), {"cuda:0": "cpu"}, lambda storage, location: storage):
    checkpoint = torch.load(io.BytesIO(data), map_location=form, weights_only=True)
    name = "eine Funktion" if callable(form) else repr(form)
    print(f"map_location={name}: Tensor auf {checkpoint['gewicht'].device}")
