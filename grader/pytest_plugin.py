"""Pytest plugin of the grader: records one result per grading test in a JSON-lines file.

The grading tests run on the trusted side: the submission runs only in the sandboxed worker's
children, never in this process, so nothing it does can reach this file. A process that ends
early loses only the tests that had not finished.
"""

import json
import os

import pytest

from grader.rubric import REQUIREMENTS_BY_ID, TASKS_BY_NUMBER
from grader.results import Failure

RESULTS_VARIABLE = "GRADER_RESULTS"
MODULES_VARIABLE = "GRADER_MODULES"


class ResultsFile:
    def __init__(self, path):
        self._file = open(path, "a", encoding="utf-8")

    def write(self, record):
        self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._file.flush()


def pytest_configure(config):
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


def explain(excinfo, item):
    """Turn a failure into (cause, German sentence) — never a traceback wall."""
    error = excinfo.value
    if isinstance(error, Failure):
        return error.cause, str(error)
    # A defect of the grading tests themselves: never charged to the student; the runner stops.
    return "intern", f"{type(error).__name__}: {error}"
