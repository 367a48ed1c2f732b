"""Fixtures of the grading tests: the sandboxed worker for the submission, and the reference.

The worker is started first thing, so that its start-up (torch, warm-up) overlaps with this
process's own; a lane of ``make grade-all`` keeps it, and the reference values computed here,
for all its submissions. The reference solution is imported here, on the trusted side; the
sandbox never sees it.
"""

import functools
import os
import tempfile
from pathlib import Path

from grader.client import Worker
from grader.worker import SUBMISSION_VARIABLE

REPO = Path(__file__).resolve().parents[2]
MODULES_VARIABLE = "GRADER_MODULES"


def modules():
    """The lessons whose probes the worker warms up: those of the lane, else those graded."""
    return (os.environ.get("GRADER_WORKER_MODULES") or os.environ.get(MODULES_VARIABLE)
            or "checkpoints,training_state").split(",")


_WORKERS = [Worker(tempfile.mkdtemp(prefix="sandkasten-"), modules=modules())]

import importlib.util  # noqa: E402  (after the worker's start on purpose)
import sys  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

from grader.scenarios import SAVED_EPOCH, trained_pair  # noqa: E402
from tests.grading.support import REFERENCE_FOLDER, cpu_seconds, snapshot  # noqa: E402

torch.set_num_threads(1)  # the same arithmetic as in the worker: bitwise comparable results


def current_worker():
    """The lane's worker; a new one if a submission ended the last."""
    if not _WORKERS[0].alive:
        _WORKERS[0].close()
        _WORKERS[0] = Worker(tempfile.mkdtemp(prefix="sandkasten-"), modules=modules())
    return _WORKERS[0]


@functools.cache
def import_reference(name):
    path = REFERENCE_FOLDER / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"referenz_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[spec.name] = module
    return module


@pytest.fixture(scope="session")
def worker():
    """The submission in the sandbox; each probe is a fresh child of the worker."""
    session = current_worker().session(Path(os.environ.get(SUBMISSION_VARIABLE, REPO / "solutions")), cpu_seconds())
    yield session
    session.close()


@pytest.fixture(scope="session")
def reference():
    return import_reference("checkpoints")


@pytest.fixture(scope="session")
def state_reference():
    return import_reference("training_state")


@functools.cache
def trained_state():
    model, optimizer = trained_pair()
    return model, optimizer, snapshot(model), snapshot(optimizer)


@pytest.fixture(scope="session")
def trained():
    """A trained pair and independent copies of its state (the same objects for every submission of a lane)."""
    return trained_state()


@functools.cache
def reference_checkpoint():
    model, optimizer, _, _ = trained_state()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "stand.pth"
        import_reference("checkpoints").save_checkpoint(model, optimizer, SAVED_EPOCH, filename=str(path))
        return path.read_bytes()


@pytest.fixture(scope="session")
def reference_file():
    """The reference's checkpoint of the trained pair (lesson 1), as bytes."""
    return reference_checkpoint()
