"""Fixtures of the grading tests: the submission under test and the reference solution.

The submission is imported inside a session fixture, not at collection time: a syntax error, an
exception or an endless loop at import then fails each test with one clear message.
"""

import os

import pytest

from tests.grading.support import REFERENCE_FILE, SUBMISSION_VARIABLE, MessageCapture, import_module_from


@pytest.fixture(scope="session")
def submission():
    return import_module_from(os.environ.get(SUBMISSION_VARIABLE, REFERENCE_FILE), "abgabe_checkpoints")


@pytest.fixture(scope="session")
def reference():
    return import_module_from(REFERENCE_FILE, "referenz_checkpoints")


@pytest.fixture
def messages(capfd, caplog):
    return MessageCapture(capfd, caplog)


@pytest.fixture
def in_tmp_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path
