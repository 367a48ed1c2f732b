"""A checkpoint of ``torch.distributed.checkpoint`` (DCP) written in the sandbox, read on the trusted side.

DCP itself reads ``.metadata`` with plain ``pickle`` and non-tensor values with
``torch.load(weights_only=False)``; neither may run on the trusted side for a file a submission
wrote. Here ``.metadata`` goes through an unpickler that admits only DCP's own metadata classes
and a few harmless torch values, every tensor chunk and every other value is read with
``weights_only=True``, and every offset, size and file name in the metadata is checked before
it is used. The result is the nested state dict that ``dcp_to_torch_save`` would produce.

The trusted side calls :func:`read_in_child`: the reading happens in a fresh Python process with
limits on memory and CPU time (``python -m grader.dcp_files``), so neither a file crafted to
exhaust memory nor an unpickled object that changes a class can reach the grading process.
"""

import io
import math
import os
import pickle
import resource
import subprocess
import sys
import tempfile
from pathlib import Path, PosixPath

import torch
from torch.distributed.checkpoint import metadata as dcp_metadata
from torch.distributed.checkpoint._nested_dict import unflatten_state_dict
from torch.distributed.checkpoint.filesystem import _StorageInfo
from torch.serialization import _get_layout

from grader.client import read_untrusted
from grader.text import first_line, nodes_within, rejected_global

MAX_BYTES = 64 * 1024 * 1024  # the whole checkpoint; the grading runs write about 150 KB
MAX_METADATA_BYTES = 1024 * 1024  # real ones: about 16 KB
MAX_CHUNKS = 64  # per tensor
MAX_NODES = 100_000  # values, lists and dicts in the result, shared references counted each time
MAX_DEPTH = 32
CHILD_MEMORY_BYTES = 3 * 1024**3  # address space of the reading process (torch itself takes about 1 GiB)
CHILD_CPU_SECONDS = 60
METADATA = ".metadata"
REPO = Path(__file__).resolve().parents[1]

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


# BUILD sets attributes; only on instances of these (never on a class or a function), and only fields.
_BUILDABLE = tuple(cls for cls in _ALLOWED.values() if isinstance(cls, type) and hasattr(cls, "__dataclass_fields__"))
_DTYPES = {name: getattr(torch, name) for name in ("float16", "bfloat16", "float32", "float64", "bool", "uint8", "int8",
                                                    "int16", "int32", "int64")}


class _MetadataUnpickler(pickle._Unpickler):
    """The pure-Python unpickler, with its globals, calls (REDUCE, NEWOBJ) and BUILD restricted."""

    dispatch = dict(pickle._Unpickler.dispatch)

    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module == "torch" and name in _DTYPES:
            return _DTYPES[name]
        raise pickle.UnpicklingError(f"{module}.{name} gehört nicht zu den Metadaten von DCP")

    def load_build(self):
        instance, state = self.stack[-2], self.stack[-1]
        fields = getattr(type(instance), "__dataclass_fields__", {})
        if not isinstance(instance, _BUILDABLE) or not (
                isinstance(state, dict) and all(isinstance(key, str) and key in fields for key in state)
                or isinstance(instance, dcp_metadata.TensorProperties) and isinstance(state, tuple)):
            raise pickle.UnpicklingError(f"BUILD auf {type(instance).__name__} gehört nicht zu den Metadaten von DCP")
        super().load_build()

    def load_reduce(self):
        function, arguments = self.stack[-2], self.stack[-1]
        if not (isinstance(arguments, tuple) and _plain_call(function, arguments)):
            raise pickle.UnpicklingError(f"Aufruf von {getattr(function, '__name__', type(function).__name__)} "
                                         "gehört nicht zu den Metadaten von DCP")
        super().load_reduce()

    def load_newobj(self):
        cls, arguments = self.stack[-2], self.stack[-1]
        if not (isinstance(cls, type) and issubclass(cls, _BUILDABLE) and arguments == ()):
            raise pickle.UnpicklingError("NEWOBJ gehört nicht zu den Metadaten von DCP")
        super().load_newobj()

    dispatch[pickle.BUILD[0]] = load_build
    dispatch[pickle.REDUCE[0]] = load_reduce
    dispatch[pickle.NEWOBJ[0]] = load_newobj


def _plain_call(function, arguments):
    """The calls a DCP ``.metadata`` makes, with arguments of the types they take."""
    if function is torch.Size:
        return len(arguments) == 1 and isinstance(arguments[0], (tuple, list)) and len(arguments[0]) <= MAX_DEPTH \
            and all(type(size) is int for size in arguments[0])
    if function is dcp_metadata._MEM_FORMAT_ENCODING:
        return len(arguments) == 1 and type(arguments[0]) is int
    if function is _get_layout:
        return len(arguments) == 1 and type(arguments[0]) is str
    if function is PosixPath:
        return all(type(part) is str for part in arguments)
    return False


def _open_regular(folder, name):
    """The bytes of the regular file ``name`` directly in ``folder``, without following links."""
    if not name or "/" in name or "\0" in name or name in (".", ".."):
        raise Unreadable(f"Die Metadaten verweisen auf {name!r}, keine Datei im Checkpoint-Ordner.")
    data = read_untrusted(folder, name, MAX_BYTES + 1)
    if data is None:
        raise Unreadable(f"Die Datei {name!r} fehlt im Checkpoint-Ordner oder ist keine gewöhnliche Datei (etwa "
                         "ein symbolischer Link).")
    if len(data) > MAX_BYTES:
        raise Unreadable(f"{name} ist größer als {MAX_BYTES // 2**20} MiB.")
    return data


def _metadata(folder):
    data = _open_regular(folder, METADATA)
    if len(data) > MAX_METADATA_BYTES:
        raise Unreadable(f"Die Datei .metadata ist größer als {MAX_METADATA_BYTES // 2**20} MiB.")
    try:
        metadata = _MetadataUnpickler(io.BytesIO(data)).load()
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
    return rejected_global(str(error)) or f"{type(error).__name__}: {first_line(str(error))}"


class _Files:
    """The data files of one checkpoint, each read once; the bytes read are capped."""

    def __init__(self, folder):
        self.folder, self.cache, self.total, self.built = folder, {}, 0, 0

    def reserve(self, fqn, nbytes):
        """Count a tensor about to be built; all tensors together stay below MAX_BYTES."""
        self.built += nbytes
        if self.built > MAX_BYTES:
            raise Unreadable(f"{fqn}: Die Tensoren des Checkpoints wären zusammen größer als {MAX_BYTES // 2**20} MiB.")

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
    files.reserve(fqn, math.prod(size) * (dtype.itemsize + 1))  # the tensor and its mask of covered elements
    if len(entry.chunks) > MAX_CHUNKS:  # (its dtype is one of _DTYPES: find_class admits no other)
        raise Unreadable(f"{fqn}: Mehr als {MAX_CHUNKS} Ausschnitte sind für diese Prüfung nicht vorgesehen.")
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
        if bool(covered[region].any()):
            raise Unreadable(f"{fqn}: Zwei Ausschnitte überlappen.")
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
    try:
        return _read(Path(folder))
    except Unreadable:
        raise
    except Exception as error:  # a crafted file may break torch or DCP's classes in other ways
        raise Unreadable(f"Der Checkpoint lässt sich nicht lesen ({type(error).__name__}).") from None


def _read(folder):
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
            stored = files.item(metadata, dcp_metadata.MetadataIndex(fqn))
            try:
                flat[fqn] = torch.load(stored, weights_only=True)
            except Exception as error:
                refused[fqn] = _reason(error)
        else:
            raise Unreadable(f"{fqn}: unbekannte Art von Eintrag in den Metadaten.")
    mapping = {fqn: metadata.planner_data.get(fqn, (fqn,)) for fqn in flat}
    if not all(isinstance(path, tuple) and 0 < len(path) <= MAX_DEPTH
               and all(type(part) is str or type(part) is int and 0 <= part <= len(flat) for part in path)
               for path in mapping.values()):
        raise Unreadable("Die Metadaten enthalten eine ungültige Zuordnung der Schlüssel.")
    try:
        state = unflatten_state_dict(flat, mapping)
    except Exception as error:
        raise Unreadable(f"Die Schlüssel des Checkpoints lassen sich nicht verschachteln ({type(error).__name__}).") from None
    if not nodes_within(state, MAX_NODES, MAX_DEPTH):
        raise Unreadable("Der Checkpoint enthält zu viele oder zu tief verschachtelte Werte.")
    return state, refused


def _read_or_why(folder):
    try:
        return read_checkpoint(folder)
    except Unreadable as error:
        return str(error)


def read_in_child(folders):
    """``{folder: (state dict, refused) or the German reason}`` for each folder, read by
    :func:`read_checkpoint` in a fresh process with limits on memory and CPU time."""
    with tempfile.TemporaryDirectory(prefix="dcp-lesen-") as scratch:
        output = Path(scratch) / "gelesen.pt"
        try:
            finished = subprocess.run([sys.executable, "-m", "grader.dcp_files", str(output), *map(str, folders)],
                                      cwd=REPO, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True,
                                      timeout=3 * CHILD_CPU_SECONDS).returncode == 0
        except subprocess.TimeoutExpired:
            finished = False
        if finished and output.is_file():
            found = torch.load(output, weights_only=True)
            return {folder: found[str(folder)] for folder in folders}
    return {folder: "Das Lesen des Checkpoints überschritt die Grenzen für Speicher oder Rechenzeit." for folder in folders}


def main(output, *folders):
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_BYTES, CHILD_MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (CHILD_CPU_SECONDS, CHILD_CPU_SECONDS + 1))
    torch.save({folder: _read_or_why(folder) for folder in folders}, output)


if __name__ == "__main__":
    main(*sys.argv[1:])
