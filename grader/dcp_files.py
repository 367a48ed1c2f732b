"""A checkpoint of ``torch.distributed.checkpoint`` (DCP) written in the sandbox, read on the trusted side.

DCP itself reads ``.metadata`` with plain ``pickle`` and non-tensor values with
``torch.load(weights_only=False)``; neither may run on the trusted side for a file a submission
wrote. Here ``.metadata`` goes through an unpickler that admits only DCP's own metadata classes
and a few harmless torch values, every tensor chunk and every other value is read with
``weights_only=True``, and every offset, size and file name in the metadata is checked before
it is used. The result is the nested state dict that ``dcp_to_torch_save`` would produce.
"""

import io
import math
import os
import pickle
import re
import stat
from pathlib import Path, PosixPath

import torch
from torch.distributed.checkpoint import metadata as dcp_metadata
from torch.distributed.checkpoint._nested_dict import unflatten_state_dict
from torch.distributed.checkpoint.filesystem import _StorageInfo
from torch.serialization import _get_layout

from grader.text import first_line

MAX_BYTES = 64 * 1024 * 1024  # the whole checkpoint; the grading runs write about 150 KB
METADATA = ".metadata"

_ALLOWED = {
    ("torch.distributed.checkpoint.metadata", name): getattr(dcp_metadata, name)
    for name in ("Metadata", "StorageMeta", "MetadataIndex", "TensorStorageMetadata", "BytesStorageMetadata",
                 "ChunkStorageMetadata", "TensorProperties", "_MEM_FORMAT_ENCODING")
}
_ALLOWED[("torch.distributed.checkpoint.filesystem", "_StorageInfo")] = _StorageInfo
_ALLOWED[("torch.serialization", "_get_layout")] = _get_layout
_ALLOWED[("torch", "Size")] = torch.Size
_ALLOWED[("pathlib", "PosixPath")] = PosixPath


class Unreadable(Exception):
    """The folder is no checkpoint this reader accepts; the message says why, in German."""


class _MetadataUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module == "torch" and isinstance(getattr(torch, name, None), torch.dtype):
            return getattr(torch, name)
        raise pickle.UnpicklingError(f"{module}.{name} gehört nicht zu den Metadaten von DCP")


def _open_regular(folder, name):
    """The bytes of the regular file ``name`` directly in ``folder``, without following links."""
    if not name or "/" in name or name in (".", ".."):
        raise Unreadable(f"Die Metadaten verweisen auf {name!r}, keine Datei im Checkpoint-Ordner.")
    try:
        descriptor = os.open(folder / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        raise Unreadable(f"Die Datei {name} fehlt im Checkpoint-Ordner (oder ist ein symbolischer Link).") from None
    with os.fdopen(descriptor, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            raise Unreadable(f"{name} im Checkpoint-Ordner ist keine gewöhnliche Datei.")
        data = file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise Unreadable(f"{name} ist größer als {MAX_BYTES // 2**20} MiB.")
    return data


def _metadata(folder):
    try:
        metadata = _MetadataUnpickler(io.BytesIO(_open_regular(folder, METADATA))).load()
    except Unreadable:
        raise
    except Exception as error:
        raise Unreadable(f"Die Datei .metadata ist keine Metadatei von DCP ({_reason(error)}).") from None
    fields = ("state_dict_metadata", "storage_data", "planner_data")
    if not isinstance(metadata, dcp_metadata.Metadata) or not all(isinstance(getattr(metadata, field, None), dict)
                                                                    for field in fields):
        raise Unreadable("Die Datei .metadata enthält nicht die Metadaten eines Checkpoints von dcp.save.")
    return metadata


def _storage(metadata, index):
    info = metadata.storage_data.get(index)
    if not (isinstance(info, _StorageInfo) and isinstance(info.relative_path, str) and type(info.offset) is int
            and type(info.length) is int and info.offset >= 0 and info.length >= 0):
        raise Unreadable(f"Für {index.fqn} nennen die Metadaten keinen gültigen Ort in den Dateien.")
    if info.transform_descriptors:
        raise Unreadable(f"{index.fqn} ist umgewandelt gespeichert ({info.transform_descriptors}); erwartet: "
                         "dcp.save ohne Erweiterungen.")
    return info


def _sizes(value, what):
    if not (isinstance(value, torch.Size) and all(type(size) is int and size >= 0 for size in value)):
        raise Unreadable(f"{what}: ungültige Größe in den Metadaten.")
    return tuple(value)


def _reason(error):
    """Why torch.load refused: the global it names if there is one, else the first line."""
    text = str(error)
    found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", text)
    return found.group(1) if found else f"{type(error).__name__}: {first_line(text)}"


class _Files:
    """The data files of one checkpoint, each read once; the bytes read are capped."""

    def __init__(self, folder):
        self.folder, self.cache, self.total = folder, {}, 0

    def item(self, metadata, index):
        info = _storage(metadata, index)
        if info.relative_path not in self.cache:
            data = _open_regular(self.folder, info.relative_path)
            self.total += len(data)
            if self.total > MAX_BYTES:
                raise Unreadable(f"Die Dateien des Checkpoints sind zusammen größer als {MAX_BYTES // 2**20} MiB.")
            self.cache[info.relative_path] = data
        data = self.cache[info.relative_path]
        if info.offset + info.length > len(data):
            raise Unreadable(f"{index.fqn}: Die Metadaten zeigen hinter das Ende von {info.relative_path}.")
        return io.BytesIO(data[info.offset:info.offset + info.length])


def _tensor(metadata, files, fqn, entry):
    properties = entry.properties
    dtype = getattr(properties, "dtype", None)
    if not isinstance(dtype, torch.dtype) or not isinstance(entry.chunks, list):
        raise Unreadable(f"{fqn}: ungültige Tensorbeschreibung in den Metadaten.")
    size = _sizes(entry.size, fqn)
    if math.prod(size) * dtype.itemsize > MAX_BYTES:
        raise Unreadable(f"{fqn}: Der Tensor wäre größer als {MAX_BYTES // 2**20} MiB.")
    whole = torch.zeros(size, dtype=dtype)
    covered = torch.zeros(size, dtype=torch.bool)
    for chunk in entry.chunks:
        if not isinstance(chunk, dcp_metadata.ChunkStorageMetadata):
            raise Unreadable(f"{fqn}: ungültiger Ausschnitt in den Metadaten.")
        offsets, sizes = _sizes(chunk.offsets, fqn), _sizes(chunk.sizes, fqn)
        if len(offsets) != len(size) or len(sizes) != len(size) or any(
                offset + extent > total for offset, extent, total in zip(offsets, sizes, size)):
            raise Unreadable(f"{fqn}: Ein Ausschnitt liegt außerhalb des Tensors.")
        stored = files.item(metadata, dcp_metadata.MetadataIndex(fqn, torch.Size(offsets)))
        try:
            part = torch.load(stored, map_location="cpu", weights_only=True)
        except Exception as error:
            raise Unreadable(f"{fqn}: Ein Ausschnitt lässt sich nicht lesen ({_reason(error)}).") from None
        if not isinstance(part, torch.Tensor) or tuple(part.shape) != sizes or part.dtype != dtype:
            raise Unreadable(f"{fqn}: Ein gespeicherter Ausschnitt passt nicht zu den Metadaten.")
        region = tuple(slice(offset, offset + extent) for offset, extent in zip(offsets, sizes))
        whole[region] = part
        covered[region] = True
    if not bool(covered.all()):
        raise Unreadable(f"{fqn}: Die gespeicherten Ausschnitte decken den Tensor nicht ganz ab (riefen alle "
                         "Ränge dcp.save auf?).")
    return whole


def read_checkpoint(folder):
    """The state dict saved in ``folder``, nested as it was given to ``dcp.save``, and the values that
    ``torch.load(..., weights_only=True)`` refused (``{flat key: reason}``; missing from the state dict).

    Raises ``Unreadable`` with a German reason if the folder is no checkpoint of ``dcp.save``.
    """
    folder = Path(folder)
    if folder.is_symlink() or not folder.is_dir():
        raise Unreadable(f"Der Ordner {folder.name} fehlt.")
    metadata = _metadata(folder)
    files, flat, refused = _Files(folder), {}, {}
    for fqn, entry in metadata.state_dict_metadata.items():
        if not isinstance(fqn, str):
            raise Unreadable("Die Metadaten enthalten einen Schlüssel, der keine Zeichenkette ist.")
        if isinstance(entry, dcp_metadata.TensorStorageMetadata):
            flat[fqn] = _tensor(metadata, files, fqn, entry)
        elif isinstance(entry, dcp_metadata.BytesStorageMetadata):
            try:
                flat[fqn] = torch.load(files.item(metadata, dcp_metadata.MetadataIndex(fqn)), weights_only=True)
            except Exception as error:
                refused[fqn] = _reason(error)
        else:
            raise Unreadable(f"{fqn}: unbekannte Art von Eintrag in den Metadaten.")
    mapping = {fqn: metadata.planner_data.get(fqn, (fqn,)) for fqn in flat}
    if not all(isinstance(path, tuple) and path and all(isinstance(part, (str, int)) for part in path)
               for path in mapping.values()):
        raise Unreadable("Die Metadaten enthalten eine ungültige Zuordnung der Schlüssel.")
    try:
        return unflatten_state_dict(flat, mapping), refused
    except Exception as error:
        raise Unreadable(f"Die Schlüssel des Checkpoints lassen sich nicht verschachteln ({type(error).__name__}).") from None
