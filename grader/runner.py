"""Grade one submission: run the grading tests (trusted) against a sandboxed worker (untrusted).

The grading tests run in a pytest process of their own that never imports the submission; they
send probes to the worker (``grader.client``), which runs the submission inside bubblewrap.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from grader import pytest_plugin, sandbox
from grader.results import from_records
from grader.rubric import tasks_of
from grader.submission import locate, syntax_error
from grader.worker import SUBMISSION_VARIABLE

REPO = Path(__file__).resolve().parent.parent
CPU_SECONDS = 10
SUBMISSION_TIMEOUT_SECONDS = 600
NOT_COPIED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pth", "*.pt", ".*")
CPU_LIMIT_VARIABLE = "GRADER_CPU_LIMIT"
NO_SANDBOX_NOTICE = (
    "Hinweis: bubblewrap fehlt oder lässt sich hier nicht starten. Die Abgabe wird ohne Sandbox bewertet: "
    f"Sie läuft mit Ihren Rechten und kann alles lesen, was Sie lesen dürfen. {sandbox.INSTALL_HINT}"
)

MISSING_MESSAGES = {
    "ok": "Dieser Test lief nicht.",
    "Zeitüberschreitung": "Die Bewertung wurde nach {timeout} s abgebrochen, bevor dieser Test lief.",
    "Absturz": "Die Bewertung brach ab, bevor dieser Test lief.",
}


class InternalError(Exception):
    """The grading tests themselves could not run: a problem of the installation, not of the student."""


def grade(path, timeout=SUBMISSION_TIMEOUT_SECONDS, cpu_limit=CPU_SECONDS, label=None, sandboxed=None):
    """Grade the submission at ``path``: a lesson's module (e.g. ``checkpoints.py``) or a folder like ``exercises/``.

    ``cpu_limit`` limits the CPU time of the submission's code in each probe (training runs have
    their own, larger limit), ``timeout`` the wall-clock time of the whole grading (both in
    seconds). ``sandboxed=False`` grades without bubblewrap. ``label`` names the submission in the
    feedback (default: the path as given).
    """
    folder, lessons = locate(path)
    notices, runnable, syntax_errors = check_modules(folder, lessons)
    status, records = "ok", []
    if runnable:
        status, records = run_tests(Path(path), folder, runnable, timeout, cpu_limit, sandboxed)
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


def stage_submission(path, folder, lessons, target):
    """A private copy of the submission: a whole folder, or just the modules of a single file."""
    if path.is_dir():
        shutil.copytree(path, target, ignore=NOT_COPIED)
    else:
        target.mkdir()
        for lesson in lessons:
            shutil.copy(folder / lesson.filename, target / lesson.filename)


def run_tests(path, folder, lessons, timeout, cpu_limit, sandboxed):
    """Run the grading tests of ``lessons`` against a copy of the submission; return status and records."""
    with tempfile.TemporaryDirectory(prefix="bewertung-") as root:
        root = Path(root)
        stage_submission(path, folder, lessons, root / "abgabe")
        results_file = root / "ergebnisse.jsonl"
        (root / "arbeitsverzeichnis").mkdir()
        command = [
            sys.executable, "-m", "pytest", str(REPO / "tests" / "grading"),
            "-c", str(REPO / "pytest.ini"), "--rootdir", str(REPO), "--basetemp", str(root / "pytest"),
            "-p", "grader.pytest_plugin", "-p", "no:warnings", "-q", "--no-header", "-o", "timeout=0",
        ]
        environment = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "PYTHONDONTWRITEBYTECODE": "1",
            "OMP_NUM_THREADS": "1",
            pytest_plugin.RESULTS_VARIABLE: str(results_file),
            pytest_plugin.MODULES_VARIABLE: ",".join(lesson.module for lesson in lessons),
            SUBMISSION_VARIABLE: str(root / "abgabe"),
            CPU_LIMIT_VARIABLE: str(cpu_limit),
        }
        if sandboxed is False:
            environment[sandbox.SANDBOX_VARIABLE] = "aus"
        process = subprocess.Popen(
            command, cwd=root / "arbeitsverzeichnis", env=environment, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            output, _ = process.communicate(timeout=timeout)
            status = "ok" if process.returncode in (0, 1) else "Absturz"
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            status = "Zeitüberschreitung"
        finally:
            if process.poll() is None:  # e.g. the grader itself was interrupted
                os.killpg(process.pid, signal.SIGKILL)
        output = output.decode(errors="replace")
        records = read_records(results_file)
    collected = next((record["tests"] for record in records if record["kind"] == "collected"), None)
    internal = [record["message"] for record in records if record.get("cause") == "intern"]
    if not collected or internal or status == "Absturz":
        raise InternalError(f"Die Bewertungstests ließen sich nicht ausführen:\n{(internal or [output[-3000:]])[0]}")
    return status, records


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
