"""Fixtures of the grading tests: the sandboxed worker for the submission, and the reference.

The worker is started first thing, so that its start-up (torch, warm-up) overlaps with this
process's own. The reference solution is imported here, on the trusted side; the sandbox never
sees it.
"""

import os
import shutil
import tempfile
from pathlib import Path

from grader.client import Worker
from grader.worker import SUBMISSION_VARIABLE

# The submission's folder; run directly (make test), the tests grade the reference in solutions/.
_SUBMISSION = Path(os.environ.get(SUBMISSION_VARIABLE, Path(__file__).resolve().parents[2] / "solutions"))
_ROOT = tempfile.mkdtemp(prefix="sandkasten-")
WORKER = Worker(_SUBMISSION, _ROOT, modules=os.environ.get("GRADER_MODULES", "checkpoints,training_state").split(","))

import importlib.util  # noqa: E402  (after the worker's start on purpose)
import sys  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

from grader.scenarios import SAVED_EPOCH, trained_pair  # noqa: E402
from tests.grading.support import REFERENCE_FOLDER, snapshot  # noqa: E402

torch.set_num_threads(1)  # the same arithmetic as in the worker: bitwise comparable results


def import_reference(name):
    path = REFERENCE_FOLDER / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"referenz_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[spec.name] = module
    return module


@pytest.fixture(scope="session")
def worker():
    """The fork server in the sandbox; each probe is a fresh child of it."""
    yield WORKER
    WORKER.close()
    shutil.rmtree(_ROOT, ignore_errors=True)


@pytest.fixture(scope="session")
def reference():
    return import_reference("checkpoints")


@pytest.fixture(scope="session")
def state_reference():
    return import_reference("training_state")


@pytest.fixture(scope="session")
def trained():
    """A trained pair and independent copies of its state."""
    model, optimizer = trained_pair()
    return model, optimizer, snapshot(model), snapshot(optimizer)


@pytest.fixture(scope="session")
def reference_file(reference, trained, tmp_path_factory):
    """The reference's checkpoint of the trained pair (lesson 1), as bytes."""
    path = tmp_path_factory.mktemp("referenz") / "stand.pth"
    reference.save_checkpoint(trained[0], trained[1], SAVED_EPOCH, filename=str(path))
    return path.read_bytes()
