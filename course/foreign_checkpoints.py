"""Checkpoints, wie andere Maschinen sie schreiben – hier auf der CPU nachgestellt.

``gpu_checkpoint_bytes`` speichert wie ein Rechner mit GPU: Jeder Speicherbereich trägt die
Gerätemarke ``cuda:0``. Ohne ``map_location`` lässt sich so eine Datei auf einem Rechner ohne GPU
nicht laden. (Dafür wird kurz ein eigener Markierer in torchs internes Verzeichnis der
Speicherorte eingetragen und sofort wieder entfernt.)
"""

import io

import torch


def gpu_checkpoint_bytes(obj):
    """Die Bytes von ``torch.save(obj)``, als lägen alle Tensoren auf ``cuda:0``."""
    registry = torch.serialization._package_registry
    before = list(registry)
    torch.serialization.register_package(0, lambda storage: "cuda:0" if storage.device.type == "cpu" else None,
                                         lambda storage, location: None)
    try:
        buffer = io.BytesIO()
        torch.save(obj, buffer)
        return buffer.getvalue()
    finally:
        registry[:] = before
