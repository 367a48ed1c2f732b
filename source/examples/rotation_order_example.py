"""Erst löschen, dann schreiben – oder umgekehrt: Was eine volle Platte beim Speichern übrig lässt."""

import errno
import io
import tempfile
from pathlib import Path
from unittest import mock

import torch

from solutions.robust import atomic_save  # Aufgabe 5

KEEP = 2
real_save = torch.save


def half_then_disk_full(obj, target, *args, **kwargs):
    """Wie torch.save auf einer vollen Platte: die Hälfte der Bytes, dann ein OSError."""
    buffer = io.BytesIO()
    real_save(obj, buffer)
    half = buffer.getvalue()[: len(buffer.getvalue()) // 2]
    if isinstance(target, (str, Path)):
        Path(target).write_bytes(half)
    else:
        target.write(half)
    raise OSError(errno.ENOSPC, "No space left on device")


def newest_first(folder):
    return sorted(folder.glob("schritt-*.pt"), key=lambda path: int(path.stem.split("-")[1]), reverse=True)


def delete_then_save(folder, step, state):
    for old in newest_first(folder)[KEEP - 1:]:  # Platz schaffen für den neuen
        old.unlink()
    torch.save(state, folder / f"schritt-{step:06d}.pt")


def save_then_delete(folder, step, state):
    atomic_save(state, folder / f"schritt-{step:06d}.pt")
    for old in newest_first(folder)[KEEP:]:
        old.unlink()


def loads(path):
    try:
        torch.load(path, weights_only=True)
        return "lädt"
    except Exception as error:
        return f"kaputt ({type(error).__name__})"


for strategy in (delete_then_save, save_then_delete):
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for step in (1, 2, 3):
            strategy(folder, step, {"step": step, "gewicht": torch.full((1000,), float(step))})
        print(f"{strategy.__name__}, keep={KEEP}: vorher", sorted(path.name for path in folder.iterdir()))
        with mock.patch("torch.save", half_then_disk_full):
            try:
                strategy(folder, 4, {"step": 4, "gewicht": torch.full((1000,), 4.0)})
            except OSError as error:
                print("  Speichern von Schritt 4 gescheitert:", error.strerror)
        for path in sorted(folder.iterdir()):
            print(f"  danach {path.name}: {loads(path)}")
