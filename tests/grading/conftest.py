"""Fixtures of the grading tests: the sandboxed worker for the submission, and the reference.

The reference solution is imported here, on the trusted side; the sandbox never sees it.
"""

import importlib.util
import sys

import pytest
import torch

from grader.client import Worker
from grader.scenarios import SAVED_EPOCH, trained_pair
from tests.grading.support import REFERENCE_FOLDER, SUBMISSION_FOLDER, snapshot

torch.set_num_threads(1)  # the same arithmetic as in the worker: bitwise comparable results


def import_reference(name):
    path = REFERENCE_FOLDER / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"referenz_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[spec.name] = module
    return module


@pytest.fixture(scope="session")
def worker(tmp_path_factory):
    """The fork server in the sandbox, started once; each probe is a fresh child of it."""
    server = Worker(SUBMISSION_FOLDER, tmp_path_factory.mktemp("sandkasten"))
    yield server
    server.close()


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
