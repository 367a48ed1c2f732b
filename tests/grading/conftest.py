"""Fixtures of the grading tests: the submission under test and the reference solution.

The submission is imported inside a session fixture, not at collection time: a syntax error, an
exception or an endless loop at import then fails each test with one clear message.
"""

import pytest

from tests.grading.support import REFERENCE_FOLDER, SUBMISSION_FOLDER, MessageCapture, import_module_from


@pytest.fixture(scope="session")
def submission():
    """The submission's ``checkpoints.py`` (lesson „Checkpoints“)."""
    return import_module_from(SUBMISSION_FOLDER / "checkpoints.py", "abgabe_checkpoints")


@pytest.fixture(scope="session")
def state_submission():
    """The submission's ``training_state.py`` (lesson „Training exakt fortsetzen“)."""
    return import_module_from(SUBMISSION_FOLDER / "training_state.py", "abgabe_training_state")


@pytest.fixture(scope="session")
def reference():
    return import_module_from(REFERENCE_FOLDER / "checkpoints.py", "referenz_checkpoints")


@pytest.fixture
def messages(capfd, caplog):
    return MessageCapture(capfd, caplog)


@pytest.fixture
def in_tmp_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path
