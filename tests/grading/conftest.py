"""Fixtures of the grading tests: the sandboxed worker for the submission, and the reference.

The worker is started first thing, so that its start-up (torch, warm-up) overlaps with this
process's own; a lane of ``make grade-all`` keeps it, and the reference values computed here,
for all its submissions. The reference solution is imported here, on the trusted side; the
sandbox never sees it.
"""

import atexit
import os
import tempfile
from pathlib import Path

from grader.client import Worker, take_prestarted
from grader.lane import WORKER_MODULES_VARIABLE
from grader.pytest_plugin import MODULES_VARIABLE, RESULTS_VARIABLE
from grader.rubric import ALL_MODULES
from grader.worker import SUBMISSION_VARIABLE

REPO = Path(__file__).resolve().parents[2]


def modules():
    """The lessons whose probes the worker warms up: those of the lane, else those graded."""
    return (os.environ.get(WORKER_MODULES_VARIABLE) or os.environ.get(MODULES_VARIABLE)
            or ",".join(ALL_MODULES)).split(",")


# A lane starts its worker before it even imports pytest; otherwise it is started here. It lives
# as long as this process and takes its temporary folder with it.
_WORKERS = [take_prestarted() or Worker(tempfile.mkdtemp(prefix="sandkasten-"), modules=modules())]
atexit.register(lambda: _WORKERS[0].close())

import pytest  # noqa: E402
import torch  # noqa: E402

from tests.grading import expectations  # noqa: E402
from tests.grading.support import cpu_seconds  # noqa: E402

torch.set_num_threads(1)  # the same arithmetic as in the worker: bitwise comparable results
# Importing torch._dynamo (the first optimizer step, torch.compile) adds types to the allowlist of
# weights_only. Done here, before the background thread starts: otherwise a torch.load of a test
# may iterate over that allowlist while the thread changes it.
import torch._dynamo  # noqa: E402,F401
# Under the grader (a lane) nothing else runs yet: the reference values are computed meanwhile.
expectations.start(modules(), background=RESULTS_VARIABLE in os.environ)


def current_worker():
    """The lane's worker; a new one if a submission ended the last."""
    if not _WORKERS[0].alive:
        _WORKERS[0].close()
        _WORKERS[0] = Worker(tempfile.mkdtemp(prefix="sandkasten-"), modules=modules())
    return _WORKERS[0]


@pytest.fixture(scope="session")
def worker():
    """The submission in the sandbox; each probe is a fresh child of the worker."""
    session = current_worker().session(Path(os.environ.get(SUBMISSION_VARIABLE, REPO / "solutions")), cpu_seconds())
    yield session
    session.close()


@pytest.fixture(scope="session")
def reference():
    """The reference solution of lesson 1, imported on the trusted side."""
    return expectations.import_reference("checkpoints")


@pytest.fixture(scope="session")
def trained():
    """A trained pair and independent copies of its state (the same objects for every submission of a lane)."""
    return expectations.get().trained


@pytest.fixture(scope="session")
def reference_file():
    """The reference's checkpoint of the trained pair (lesson 1), as bytes."""
    return expectations.get().reference_file


@pytest.fixture(scope="session")
def robust():
    """Lesson 3: the files safe_load gets and the states it must leave (see expectations.robust_files)."""
    return expectations.get().robust
