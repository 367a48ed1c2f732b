"""Grade one submission: run the grading tests in a separate process with time and memory limits.

The grading process runs in a sandbox folder that holds copies of the grading tests, the plugin,
the course code, the reference solutions (under a path that is no importable package) and the
submission. The repository is not on its import path, so the submission cannot import
``solutions``.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from grader import pytest_plugin
from grader.results import from_records
from grader.rubric import tasks_of
from grader.submission import locate, syntax_error
from tests.grading.support import REFERENCE_VARIABLE, SUBMISSION_VARIABLE

REPO = Path(__file__).resolve().parent.parent
TEST_TIMEOUT_SECONDS = 10
SUBMISSION_TIMEOUT_SECONDS = 240
MEMORY_LIMIT_BYTES = 2 * 1024**3
NOT_COPIED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pth", "*.pt", ".*")

MISSING_MESSAGES = {
    "ok": "Dieser Test lief nicht.",
    "Zeitüberschreitung": "Die Bewertung wurde nach {timeout} s abgebrochen, bevor dieser Test lief.",
    "Absturz": "Der Prüfprozess wurde beendet, bevor dieser Test lief (z. B. durch os._exit im Code der Abgabe).",
}


class InternalError(Exception):
    """The grading tests themselves could not run: a problem of the installation, not of the student."""


def grade(path, timeout=SUBMISSION_TIMEOUT_SECONDS, test_timeout=TEST_TIMEOUT_SECONDS,
          memory_limit=MEMORY_LIMIT_BYTES, label=None):
    """Grade the submission at ``path``: a lesson's module (e.g. ``checkpoints.py``) or a folder like ``exercises/``.

    ``test_timeout`` limits each grading test, ``timeout`` the whole run (both in seconds),
    ``memory_limit`` the address space of the grading process. ``label`` names the submission
    in the feedback (default: the path as given).
    """
    folder, lessons = locate(path)
    notices, runnable, syntax_errors = check_modules(folder, lessons)
    status, records = "ok", []
    if runnable:
        status, records = run_in_sandbox(Path(path), folder, runnable, timeout, test_timeout, memory_limit)
    missing = MISSING_MESSAGES[status].format(timeout=timeout)
    if status == "ok" and syntax_errors:
        status = "Syntaxfehler"
    tasks = [task for lesson in lessons for task in tasks_of(lesson)]
    return from_records(label or str(path), records, tasks, status, missing, notices)


def check_modules(folder, lessons):
    """Which lessons can run; for the others a notice per task (missing file, syntax error)."""
    notices, runnable, syntax_errors = {}, [], False
    for lesson in lessons:
        module = folder / lesson.filename
        problem = syntax_error(module) if module.is_file() else f"Die Datei {lesson.filename} fehlt in der Abgabe."
        syntax_errors |= module.is_file() and problem is not None
        if problem:
            notices.update({task.number: problem for task in tasks_of(lesson)})
        else:
            runnable.append(lesson)
    return notices, runnable, syntax_errors


def run_in_sandbox(path, folder, lessons, timeout, test_timeout, memory_limit):
    """Run the grading tests of ``lessons`` on a copy of the submission; return status and records."""
    with tempfile.TemporaryDirectory(prefix="bewertung-") as sandbox:
        sandbox = Path(sandbox)
        submission = stage(path, folder, lessons, sandbox)
        results_file = sandbox / "ergebnisse.jsonl"
        status, output = run_tests(submission, lessons, results_file, sandbox, timeout, test_timeout, memory_limit)
        records = read_records(results_file)
    collected = next((record["tests"] for record in records if record["kind"] == "collected"), None)
    if not collected:
        raise InternalError(f"Die Bewertungstests ließen sich nicht starten:\n{output[-2000:]}")
    finished = {record["nodeid"] for record in records if record["kind"] == "test"}
    if status == "ok" and any(test["nodeid"] not in finished for test in collected):
        status = "Absturz"  # the process ended early, even if with exit status 0
    return status, records


def stage(path, folder, lessons, sandbox):
    """Copy grading tests, plugin, course code, reference and submission into the sandbox.

    Returns the submission's folder in the sandbox.
    """
    shutil.copytree(REPO / "tests" / "grading", sandbox / "tests" / "grading", ignore=NOT_COPIED)
    (sandbox / "tests" / "__init__.py").touch()
    (sandbox / "grader").mkdir()
    for name in ("__init__.py", "pytest_plugin.py", "rubric.py"):
        shutil.copy(REPO / "grader" / name, sandbox / "grader" / name)
    shutil.copytree(REPO / "course", sandbox / "course", ignore=NOT_COPIED)
    shutil.copy(REPO / "pytest.ini", sandbox / "pytest.ini")
    shutil.copytree(REPO / "solutions", sandbox / ".referenz", ignore=NOT_COPIED)
    submission = sandbox / "abgabe"
    if path.is_dir():
        shutil.copytree(path, submission, ignore=NOT_COPIED)
    else:
        submission.mkdir()
        for lesson in lessons:
            shutil.copy(folder / lesson.filename, submission / lesson.filename)
    (sandbox / "arbeitsverzeichnis").mkdir()
    return submission


def run_tests(submission, lessons, results_file, sandbox, timeout, test_timeout, memory_limit):
    """Run pytest on the grading tests; return the status of the process and its output."""
    command = [
        sys.executable, "-m", "pytest", str(sandbox / "tests" / "grading"),
        "-c", str(sandbox / "pytest.ini"), "--rootdir", str(sandbox),
        "-p", "grader.pytest_plugin", "-p", "no:warnings",
        "-o", f"timeout={test_timeout}", "-o", "timeout_method=signal",
        "-q", "--no-header",
    ]
    environment = {
        **os.environ,
        "PYTHONPATH": str(sandbox),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        # One thread per grading process: the test models are tiny, and a batch runs one process per core.
        "OMP_NUM_THREADS": "1",
        pytest_plugin.RESULTS_VARIABLE: str(results_file),
        SUBMISSION_VARIABLE: str(submission),
        pytest_plugin.MODULES_VARIABLE: ",".join(lesson.module for lesson in lessons),
        REFERENCE_VARIABLE: str(sandbox / ".referenz"),
        pytest_plugin.MEMORY_LIMIT_VARIABLE: str(memory_limit),
    }
    # A session of its own, so that a timeout ends the submission's child processes as well.
    process = subprocess.Popen(
        command, cwd=sandbox / "arbeitsverzeichnis", env=environment, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        return "Zeitüberschreitung", output.decode(errors="replace")
    finally:
        if process.poll() is None:  # e.g. the grader itself was interrupted
            os.killpg(process.pid, signal.SIGKILL)
    # pytest exits 0 (all passed) or 1 (some failed); anything else means the run broke off.
    return ("ok" if process.returncode in (0, 1) else "Absturz"), output.decode(errors="replace")


def read_records(results_file):
    if not results_file.exists():
        return []
    records = []
    for line in results_file.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            break  # a line cut off by a killed process
    return records
