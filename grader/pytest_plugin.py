"""Pytest plugin of the grader: records one result per grading test in a JSON-lines file.

The file is written by the grading process itself, test by test, so a submission that kills the
process loses only the tests that had not finished; nothing the submission prints is evidence.
"""

import json
import os
import resource
import subprocess

import pytest

from grader.rubric import REQUIREMENTS_BY_ID, TASKS_BY_NUMBER
from tests.grading.support import (
    SUBMISSION_VARIABLE,
    GradingFailure,
    SubmissionAborted,
    SubmissionImportError,
    exits_contained,
    last_frame_in,
)

RESULTS_VARIABLE = "GRADER_RESULTS"
MODULES_VARIABLE = "GRADER_MODULES"
MEMORY_LIMIT_VARIABLE = "GRADER_MEMORY_LIMIT"
MAX_EXCERPT = 300


class ResultsFile:
    def __init__(self, path):
        self._file = open(path, "a", encoding="utf-8")

    def write(self, record):
        self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._file.flush()


def pytest_configure(config):
    limit = os.environ.get(MEMORY_LIMIT_VARIABLE)
    if limit:  # set before any code of the submission runs
        resource.setrlimit(resource.RLIMIT_AS, (int(limit), int(limit)))
    path = os.environ.get(RESULTS_VARIABLE)
    config.stash[_results_key] = ResultsFile(path) if path else None


_results_key = pytest.StashKey()
_failure_key = pytest.StashKey()


def requirement_of(item):
    marker = item.get_closest_marker("requirement")
    return marker.args[0] if marker else None


def pytest_collection_modifyitems(config, items):
    """Grade only the lessons whose modules the submission holds (all, if not told otherwise)."""
    modules = os.environ.get(MODULES_VARIABLE)
    if modules is None:
        return
    wanted = set(modules.split(","))
    selected, deselected = [], []
    for item in items:
        task = TASKS_BY_NUMBER[REQUIREMENTS_BY_ID[requirement_of(item)].task]
        (selected if task.lesson.module in wanted else deselected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


def pytest_collection_finish(session):
    results = session.config.stash[_results_key]
    if results:
        tests = [{"nodeid": item.nodeid, "requirement": requirement_of(item)} for item in session.items]
        results.write({"kind": "collected", "tests": tests})


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed and _failure_key not in item.stash:
        item.stash[_failure_key] = explain(call.excinfo, item)
    if report.when == "teardown":
        results = item.config.stash[_results_key]
        if results:
            failure = item.stash.get(_failure_key, None)
            results.write(
                {
                    "kind": "test",
                    "nodeid": item.nodeid,
                    "requirement": requirement_of(item),
                    "passed": failure is None,
                    "cause": failure[0] if failure else None,
                    "message": failure[1] if failure else None,
                }
            )
    return report


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem):
    """Keep KeyboardInterrupt and SystemExit of the submission from ending the whole grading run."""
    with exits_contained():
        return (yield)


def explain(excinfo, item):
    """Turn a failure into (cause, German sentence) — never a traceback wall."""
    error = excinfo.value
    if isinstance(error, GradingFailure):
        return "anforderung", str(error)
    if isinstance(error, SubmissionImportError):
        return "import", str(error)
    if isinstance(error, NotImplementedError):
        return "nicht_implementiert", "Die Funktion ist noch nicht implementiert (sie löst NotImplementedError aus)."
    if isinstance(error, pytest.fail.Exception) and str(error).startswith("Timeout"):
        return "zeit", (
            f"Zeitüberschreitung: Der Test wurde nach {seconds(timeout_of(item))} s abgebrochen. "
            "Enthält Ihr Code eine Endlosschleife?"
        )
    if isinstance(error, subprocess.TimeoutExpired):
        return "zeit", (
            f"Zeitüberschreitung: Ein Trainingsprozess mit Ihren Funktionen wurde nach {seconds(error.timeout)} s "
            "abgebrochen. Enthält Ihr Code eine Endlosschleife?"
        )
    if isinstance(error, SubmissionAborted):
        return "abbruch", (
            f"Ihr Code hat {error} ausgelöst und damit versucht, das Programm zu beenden. "
            "Erwartet: Die Funktion kehrt normal zurück."
        )
    if isinstance(error, MemoryError) or "can't allocate memory" in str(error):
        return "speicher", (
            f"Ihr Code hat mehr Speicher angefordert, als die Bewertung erlaubt: {excerpt(excinfo)}"
        )
    return "ausnahme", f"Ihr Code löste eine unerwartete Ausnahme aus: {excerpt(excinfo)}"


def timeout_of(item):
    """The per-test limit of pytest-timeout: the test's own marker, else the configured one."""
    marker = item.get_closest_marker("timeout")
    return marker.args[0] if marker else item.config.getini("timeout")


def seconds(value):
    return f"{float(value):g}".replace(".", ",")


def excerpt(excinfo):
    """``Type: message`` and the last line of the submission's own code that was involved."""
    error = excinfo.value
    text = f"{type(error).__name__}: {error}"
    if len(text) > MAX_EXCERPT:
        text = text[:MAX_EXCERPT] + " …"
    frame = last_frame_in(excinfo.tb, os.environ.get(SUBMISSION_VARIABLE, ""))
    if frame:
        text += f" ({os.path.basename(frame.filename)}, Zeile {frame.lineno}: {frame.line})"
    return text
