"""The trusted side reads a DCP checkpoint a submission wrote without running anything from it.

A real checkpoint of two ranks (an FSDP2-sharded model, so tensors in several chunks) reads to the
same state dict as torch's own ``dcp_to_torch_save``; a ``.metadata`` that carries code or changes
a class, and metadata that point outside the folder, past a file's end, leave a tensor half
covered or ask for more memory than the checkpoint holds, end in a German reason, without effect.
"""

import os
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
import torch.distributed.checkpoint as dcp
from torch.distributed.checkpoint import metadata as dcp_metadata
from torch.distributed.checkpoint.format_utils import dcp_to_torch_save

from grader.dcp_files import MAX_BYTES, Unreadable, _MetadataUnpickler, read_checkpoint, read_in_child
from tests.grading.support import differences

TWO_RANKS_SAVE = """
import os, sys
import torch, torch.distributed as dist, torch.distributed.checkpoint as dcp
from torch.distributed.checkpoint.state_dict import get_state_dict
from torch.distributed.fsdp import fully_shard
dist.init_process_group("gloo")
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
fully_shard(model)
optimizer = torch.optim.AdamW(model.parameters(), lr=0.01)
model(torch.randn(4, 6)).sum().backward()
optimizer.step()
model_state, optimizer_state = get_state_dict(model, optimizer)
dcp.save({"app": {"model": model_state, "optimizer": optimizer_state, "step": 1,
                  "rng": {f"rang-{dist.get_rank()}": torch.get_rng_state()}}}, checkpoint_id=sys.argv[1])
dist.barrier()
dist.destroy_process_group()
sys.stdout.flush()
os._exit(0)  # finalization may abort: gloo's threads still hold FSDP's work objects ("terminate called ...")
"""


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dcp")
    script = folder / "speichern.py"
    script.write_text(TWO_RANKS_SAVE, encoding="utf-8")
    checkpoint = folder / "schritt-000001"
    run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
                          str(script), str(checkpoint)], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    return checkpoint


def copy_of(checkpoint, target):
    target.mkdir()
    for path in checkpoint.iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    return target


def metadata_of(folder):
    with (folder / ".metadata").open("rb") as file:
        return _MetadataUnpickler(file).load()


def write_metadata(folder, metadata):
    (folder / ".metadata").write_bytes(pickle.dumps(metadata))


def test_two_ranks_checkpoint_reads_as_torch_converts_it(two_ranks, tmp_path):
    metadata = metadata_of(two_ranks)
    chunks = {fqn: len(entry.chunks) for fqn, entry in metadata.state_dict_metadata.items()
              if isinstance(entry, dcp_metadata.TensorStorageMetadata)}
    assert chunks["app.model.0.weight"] == 2  # sharded: each rank wrote its half
    found, refused = read_checkpoint(two_ranks)
    dcp_to_torch_save(two_ranks, tmp_path / "umgewandelt.pt")
    converted = torch.load(tmp_path / "umgewandelt.pt", weights_only=True)
    assert refused == {} and differences(converted, found) == []
    assert set(found["app"]["rng"]) == {"rang-0", "rang-1"} and found["app"]["step"] == 1


def test_metadata_that_carries_code_is_refused_without_running_it(two_ranks, tmp_path):
    folder = copy_of(two_ranks, tmp_path / "boese")
    marker = tmp_path / "ausgefuehrt"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    write_metadata(folder, Payload())
    with pytest.raises(Unreadable, match=r"keine Metadatei von DCP .*posix\.system|os\.system"):
        read_checkpoint(folder)
    assert not marker.exists()


@pytest.mark.parametrize("change, reason", [
    (lambda info: setattr(info, "relative_path", "../geheim.txt"), "keine Datei im Checkpoint-Ordner"),
    (lambda info: setattr(info, "offset", 10**9), "hinter das Ende"),
    (lambda info: setattr(info, "transform_descriptors", ["zstd"]), "umgewandelt gespeichert"),
])
def test_metadata_pointing_elsewhere_is_refused(two_ranks, tmp_path, change, reason):
    folder = copy_of(two_ranks, tmp_path / "verbogen")
    (tmp_path / "geheim.txt").write_text("geheim", encoding="utf-8")
    metadata = metadata_of(folder)
    for info in metadata.storage_data.values():
        change(info)
    write_metadata(folder, metadata)
    with pytest.raises(Unreadable, match=reason):
        read_checkpoint(folder)


def test_a_tensor_not_covered_by_its_chunks_is_refused(two_ranks, tmp_path):
    folder = copy_of(two_ranks, tmp_path / "halb")
    metadata = metadata_of(folder)
    metadata.state_dict_metadata["app.model.0.weight"].chunks.pop()
    write_metadata(folder, metadata)
    with pytest.raises(Unreadable, match="decken den Tensor nicht ganz ab"):
        read_checkpoint(folder)


def test_a_data_file_that_is_a_link_is_refused(two_ranks, tmp_path):
    folder = copy_of(two_ranks, tmp_path / "verlinkt")
    (folder / "__1_0.distcp").unlink()
    (folder / "__1_0.distcp").symlink_to(two_ranks / "__1_0.distcp")
    with pytest.raises(Unreadable, match="symbolischer Link"):
        read_checkpoint(folder)


def test_a_value_weights_only_refuses_is_named_and_the_rest_is_read(tmp_path):
    folder = tmp_path / "numpy"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DCP warns that no process group exists
        dcp.save({"gewichte": torch.arange(4.0), "rng": np.random.get_state(), "schritt": 7}, checkpoint_id=folder)
    found, refused = read_checkpoint(folder)
    assert list(refused) == ["rng"] and "numpy" in refused["rng"]
    assert torch.equal(found["gewichte"], torch.arange(4.0)) and found["schritt"] == 7 and "rng" not in found


def test_a_missing_folder_or_metadata_is_named(tmp_path):
    with pytest.raises(Unreadable, match="Der Ordner fehlt-hier fehlt"):
        read_checkpoint(tmp_path / "fehlt-hier")
    (tmp_path / "ohne").mkdir()
    with pytest.raises(Unreadable, match="Die Datei '.metadata' fehlt"):
        read_checkpoint(tmp_path / "ohne")


def global_op(module, name):
    return b"\x8c" + bytes([len(module)]) + module.encode() + b"\x8c" + bytes([len(name)]) + name.encode() + b"\x93"


def after_the_metadata(folder, operations):
    """Pickle operations run once the real metadata object is built; the object is still returned."""
    data = (folder / ".metadata").read_bytes()
    assert data.endswith(b".")
    (folder / ".metadata").write_bytes(data[:-1] + operations + b".")


def test_metadata_that_changes_a_class_is_refused_and_changes_nothing(two_ranks, tmp_path):
    folder = copy_of(two_ranks, tmp_path / "gift")
    # BUILD with a slot state on the class PosixPath: setattr(PosixPath, "is_symlink", torch.Size)
    after_the_metadata(folder, global_op("pathlib", "PosixPath") + b"N}" + b"\x8c\x0ais_symlink"
                       + global_op("torch", "Size") + b"s\x86b0")
    with pytest.raises(Unreadable, match="BUILD auf type gehört nicht zu den Metadaten"):
        read_checkpoint(folder)
    assert "is_symlink" not in vars(type(folder))


def test_metadata_calls_with_odd_arguments_are_refused(two_ranks, tmp_path):
    folder = copy_of(two_ranks, tmp_path / "aufruf")
    # _MEM_FORMAT_ENCODING("x"): the enum's error message would hold the repr of its argument
    after_the_metadata(folder, global_op("torch.distributed.checkpoint.metadata", "_MEM_FORMAT_ENCODING")
                       + b"\x8c\x01x\x85R0")
    with pytest.raises(Unreadable, match="Aufruf von _MEM_FORMAT_ENCODING gehört nicht"):
        read_checkpoint(folder)


def test_tensors_larger_than_the_files_allow_are_refused(two_ranks, tmp_path):
    folder = copy_of(two_ranks, tmp_path / "riesig")
    metadata = metadata_of(folder)
    entry = metadata.state_dict_metadata["app.model.0.weight"]
    entry.size = torch.Size([MAX_BYTES // 4 + 1])  # one tensor above the budget, its chunks tiny
    write_metadata(folder, metadata)
    with pytest.raises(Unreadable, match="zusammen größer als 64 MiB"):
        read_checkpoint(folder)


def test_overlapping_chunks_are_refused(two_ranks, tmp_path):
    folder = copy_of(two_ranks, tmp_path / "doppelt")
    metadata = metadata_of(folder)
    chunks = metadata.state_dict_metadata["app.model.0.weight"].chunks
    chunks.append(chunks[0])
    write_metadata(folder, metadata)
    with pytest.raises(Unreadable, match="überlappen"):
        read_checkpoint(folder)


def test_the_child_process_reads_or_says_why(two_ranks, tmp_path):
    found = read_in_child([two_ranks, tmp_path / "fehlt"])
    state, refused = found[two_ranks]
    assert refused == {} and differences(read_checkpoint(two_ranks)[0], state) == []
    assert found[tmp_path / "fehlt"] == "Der Ordner fehlt fehlt."
