"""safetensors: ein flaches Dictionary aus Tensoren, ohne pickle – und was deshalb nicht hineinpasst."""

import json
import os
import struct
import tempfile

import torch
from safetensors.torch import load_file, load_model, save_file, save_model
from torch import nn


class TiedModel(nn.Module):
    """Eingabe und Ausgabe teilen sich eine Matrix (wie bei vielen Sprachmodellen)."""

    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(10, 4)
        self.output = nn.Linear(4, 10, bias=False)
        self.output.weight = self.embedding.weight


def header(path):
    """Die ersten 8 Bytes nennen die Länge des Kopfes; der Kopf ist JSON, danach folgen nur Zahlen."""
    with open(path, "rb") as file:
        length = struct.unpack("<Q", file.read(8))[0]
        return json.loads(file.read(length))


def short(error):
    """Typ und erster Satz der Meldung, auf einer Zeile."""
    return f"{type(error).__name__}: {' '.join(str(error).split()).split(': [')[0]}"


torch.manual_seed(0)
model = nn.Linear(4, 2)
optimizer = torch.optim.Adam(model.parameters())
model(torch.randn(1, 4)).sum().backward()
optimizer.step()

with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "gewichte.safetensors")
    save_file(model.state_dict(), path, metadata={"schritt": "100"})  # Metadaten nur als Zeichenketten
    print("Kopf der Datei:", header(path))
    loaded = load_file(path)
    print("geladen:", {name: tuple(tensor.shape) for name, tensor in loaded.items()},
          "gleich:", all(torch.equal(loaded[name], value) for name, value in model.state_dict().items()))

    for label, content in (("Optimiererzustand", optimizer.state_dict()), ("Schrittzähler", {"schritt": 100})):
        try:
            save_file(content, os.path.join(folder, "anderes.safetensors"))
        except ValueError as error:
            print(f"{label}:", short(error))

    tied = TiedModel()
    try:
        save_file(tied.state_dict(), os.path.join(folder, "geteilt.safetensors"))
    except RuntimeError as error:
        print("geteilte Gewichte mit save_file:", short(error))
    save_model(tied, os.path.join(folder, "geteilt.safetensors"))  # speichert die Matrix einmal
    print("mit save_model, Kopf:", header(os.path.join(folder, "geteilt.safetensors")))
    fresh = TiedModel()
    load_model(fresh, os.path.join(folder, "geteilt.safetensors"))
    print("load_model: Matrix weiter geteilt:", fresh.output.weight is fresh.embedding.weight,
          "gleich:", torch.equal(fresh.embedding.weight, tied.embedding.weight))

    view = torch.randn(10_000_000)[:10]
    save_file({"ausschnitt": view}, os.path.join(folder, "view.safetensors"))
    print(f"10 Zahlen als View von 10 Mio.: {os.path.getsize(os.path.join(folder, 'view.safetensors'))} Bytes")
