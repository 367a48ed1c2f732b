"""Grade one submission: run the grading tests in a separate process with time and memory limits.

The grading process runs in a sandbox folder that holds copies of the grading tests, the plugin,
the reference solution (under a path that is no importable package) and the submission. The
repository is not on its import path, so the submission cannot import ``solutions``.
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
from grader.results import failed_everywhere, from_records
from grader.submission import locate, syntax_error

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
    """Grade the submission at ``path`` (a ``checkpoints.py`` or a folder holding one).

    ``test_timeout`` limits each grading test, ``timeout`` the whole run (both in seconds),
    ``memory_limit`` the address space of the grading process. ``label`` names the submission
    in the feedback (default: the path as given).
    """
    label = label or str(path)
    module = locate(path)
    problem = syntax_error(module)
    if problem:
        return failed_everywhere(label, "Syntaxfehler", problem)
    with tempfile.TemporaryDirectory(prefix="bewertung-") as sandbox:
        sandbox = Path(sandbox)
        staged = stage(Path(path), module, sandbox)
        results_file = sandbox / "ergebnisse.jsonl"
        status, output = run_tests(staged, results_file, sandbox, timeout, test_timeout, memory_limit)
        records = read_records(results_file)
    collected = next((record["tests"] for record in records if record["kind"] == "collected"), None)
    if not collected:
        raise InternalError(f"Die Bewertungstests ließen sich nicht starten:\n{output[-2000:]}")
    finished = {record["nodeid"] for record in records if record["kind"] == "test"}
    if status == "ok" and any(test["nodeid"] not in finished for test in collected):
        status = "Absturz"  # the process ended early, even if with exit status 0
    return from_records(label, records, status, MISSING_MESSAGES[status].format(timeout=timeout))


def stage(path, module, sandbox):
    """Copy grading tests, plugin, reference and submission into the sandbox; return the submission's copy."""
    shutil.copytree(REPO / "tests" / "grading", sandbox / "tests" / "grading", ignore=NOT_COPIED)
    (sandbox / "tests" / "__init__.py").touch()
    (sandbox / "grader").mkdir()
    for name in ("__init__.py", "pytest_plugin.py"):
        shutil.copy(REPO / "grader" / name, sandbox / "grader" / name)
    shutil.copy(REPO / "pytest.ini", sandbox / "pytest.ini")
    (sandbox / ".referenz").mkdir()
    shutil.copy(REPO / "solutions" / "checkpoints.py", sandbox / ".referenz" / "checkpoints.py")
    submission = sandbox / "abgabe"
    if path.is_dir():
        shutil.copytree(path, submission, ignore=NOT_COPIED)
    else:
        submission.mkdir()
        shutil.copy(module, submission / module.name)
    (sandbox / "arbeitsverzeichnis").mkdir()
    return submission / module.name


def run_tests(module, results_file, sandbox, timeout, test_timeout, memory_limit):
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
        pytest_plugin.SUBMISSION_NAME_VARIABLE: str(module),
        pytest_plugin.REFERENCE_VARIABLE: str(sandbox / ".referenz" / "checkpoints.py"),
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
