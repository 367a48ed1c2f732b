"""Grade one submission: run the grading tests in a separate process with time limits."""

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from grader import pytest_plugin
from grader.results import failed_everywhere, from_records
from grader.submission import locate, syntax_error

REPO = Path(__file__).resolve().parent.parent
GRADING_TESTS = REPO / "tests" / "grading"
TEST_TIMEOUT_SECONDS = 10
SUBMISSION_TIMEOUT_SECONDS = 240


class InternalError(Exception):
    """The grading tests themselves could not run: a problem of the installation, not of the student."""


def grade(path, timeout=SUBMISSION_TIMEOUT_SECONDS, test_timeout=TEST_TIMEOUT_SECONDS):
    """Grade the submission at ``path`` (a ``checkpoints.py`` or a folder holding one).

    ``test_timeout`` limits each grading test, ``timeout`` the whole run (both in seconds).
    """
    module = locate(path).resolve()
    problem = syntax_error(module)
    if problem:
        return failed_everywhere(str(path), "Syntaxfehler", problem)
    with tempfile.TemporaryDirectory(prefix="bewertung-") as workdir:
        results_file = Path(workdir) / "ergebnisse.jsonl"
        status, output = run_tests(module, results_file, Path(workdir), timeout, test_timeout)
        records = read_records(results_file)
    if not any(record["kind"] == "collected" for record in records):
        raise InternalError(f"Die Bewertungstests ließen sich nicht starten:\n{output[-2000:]}")
    missing = {
        "ok": "Dieser Test lief nicht.",
        "Zeitüberschreitung": f"Die Bewertung wurde nach {timeout} s abgebrochen, bevor dieser Test lief.",
        "Absturz": "Der Prüfprozess wurde beendet, bevor dieser Test lief (z. B. durch os._exit im Code der Abgabe).",
    }[status]
    return from_records(str(path), records, status, missing)


def run_tests(module, results_file, workdir, timeout, test_timeout):
    """Run pytest on the grading tests; return the status of the process and its output."""
    command = [
        sys.executable, "-m", "pytest", str(GRADING_TESTS),
        "-c", str(REPO / "pytest.ini"), "--rootdir", str(REPO),
        "-p", "grader.pytest_plugin", "-p", "no:warnings",
        "-o", f"timeout={test_timeout}", "-o", "timeout_method=signal",
        "-q", "--no-header",
    ]
    environment = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        pytest_plugin.RESULTS_VARIABLE: str(results_file),
        pytest_plugin.SUBMISSION_NAME_VARIABLE: str(module),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    # A session of its own, so that a timeout ends the submission's child processes as well.
    process = subprocess.Popen(
        command, cwd=workdir, env=environment, stdin=subprocess.DEVNULL,
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
