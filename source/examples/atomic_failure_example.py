"""Was ein Fehler beim Schreiben anrichtet: direkt mit torch.save und atomar."""

import os
import tempfile
from pathlib import Path

import torch

from atomic_save_example import atomic_torch_save


class NotSaveable:
    """Steht hinter den Tensoren im Checkpoint; das Speichern bricht bei ihm ab."""

    def __reduce__(self):
        raise RuntimeError("lässt sich nicht speichern")


def try_saving(name, save, path):
    torch.save({"epoch": 3, "gewichte": torch.ones(1000)}, path)  # der letzte gute Checkpoint
    try:
        save({"epoch": 4, "gewichte": torch.zeros(1000), "extra": NotSaveable()}, path)
    except RuntimeError as error:
        print(f"{name}: RuntimeError ({error})")
    try:
        epoch = torch.load(path, weights_only=True)["epoch"]
        print(f"  Die Datei ist noch lesbar: epoch={epoch}, übrige Dateien: {sorted(os.listdir(path.parent))}")
    except Exception as error:
        print(f"  Der letzte gute Checkpoint ist zerstört: {type(error).__name__}")


with tempfile.TemporaryDirectory() as folder:
    try_saving("torch.save", torch.save, Path(folder) / "stand.pt")
    try_saving("atomic_torch_save", atomic_torch_save, Path(folder) / "stand.pt")

    # os.replace verschiebt nicht zwischen Dateisystemen; /dev/shm liegt meist im Arbeitsspeicher.
    other = next((candidate for candidate in ("/dev/shm", "/tmp", "/run/user")
                  if os.path.isdir(candidate) and os.access(candidate, os.W_OK)
                  and os.stat(candidate).st_dev != os.stat(folder).st_dev), None)
    if other:
        handle, temporary = tempfile.mkstemp(dir=other)
        os.close(handle)
        try:
            os.replace(temporary, Path(folder) / "stand.pt")
        except OSError as error:
            print(f"os.replace von {other} in den Ordner des Checkpoints: {type(error).__name__}: {error.strerror}")
            os.unlink(temporary)
    else:
        print("Auf diesem Rechner liegt kein zweites Dateisystem vor; os.replace würde hier gelingen.")
