"""Grade one submission: run the grading tests (trusted) against a sandboxed worker (untrusted).

The grading tests run in a lane (``grader.lane``), a process of their own that never imports the
submission; they send probes to the worker (``grader.client``), which runs the submission inside
bubblewrap.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from grader import sandbox
from grader.lane import WORKER_MODULES_VARIABLE
from grader.results import from_records
from grader.rubric import ALL_MODULES, tasks_of
from grader.submission import locate, prepare

REPO = Path(__file__).resolve().parent.parent
CPU_SECONDS = 10
SUBMISSION_TIMEOUT_SECONDS = 600
NOT_COPIED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pth", "*.pt", ".*")
NO_SANDBOX_NOTICE = (
    "Hinweis: bubblewrap fehlt oder lässt sich hier nicht starten. Die Abgabe wird ohne Sandbox bewertet; "
    f"sie läuft mit Ihren Rechten und kann alles lesen, was Sie lesen dürfen. {sandbox.INSTALL_HINT}"
)

MISSING_MESSAGES = {
    "ok": "Dieser Test lief nicht.",
    "Zeitüberschreitung": "Die Bewertung wurde nach {timeout} s abgebrochen, bevor dieser Test lief.",
}


class InternalError(Exception):
    """The grading tests themselves could not run: a problem of the installation, not of the student."""


def grade(path, timeout=SUBMISSION_TIMEOUT_SECONDS, cpu_limit=CPU_SECONDS, label=None, sandboxed=None, lane=None):
    """Grade the submission at ``path``: a lesson's module (``checkpoints.py``), its notebook
    (``checkpoints.ipynb``) or a folder like ``exercises/``.

    ``cpu_limit`` limits the CPU time of the submission's code in each probe (training runs have
    their own, larger limit), ``timeout`` the wall-clock time of the whole grading (both in
    seconds). ``sandboxed=False`` grades without bubblewrap. ``label`` names the submission in the
    feedback (default: the path as given). ``lane`` (a :class:`Lane`) grades it in a process that
    is already running; by default a lane is started for this one submission. A notebook is turned
    into its module here, on the trusted side (``grader.notebook``); only that module is staged.
    """
    folder, lessons = locate(path)
    prepared = prepare(path, folder, lessons)
    status, records = "ok", []
    if prepared.runnable:
        status, records = run_tests(prepared, timeout, cpu_limit, sandboxed, lane)
    missing = MISSING_MESSAGES[status].format(timeout=timeout)
    if status == "ok" and prepared.syntax_errors:
        status = "Syntaxfehler"
    tasks = [task for lesson in lessons for task in tasks_of(lesson)]
    records = relocate(records, prepared, lessons)
    grading = from_records(label or str(path), records, tasks, status, missing, prepared.notices, prepared.remarks)
    for number in prepared.zeroed:  # its definition sits in a notebook cell that cannot be used
        for result in grading.task(number).requirements:
            result.passed, result.messages = False, [prepared.notices[number]]
    return grading


def relocate(records, prepared, lessons):
    """Records whose places in a module made from a notebook name cell and line of the notebook."""
    for lesson in lessons:
        conversion = prepared.conversions.get(lesson.module)
        if conversion is not None:
            for record in records:
                if isinstance(record.get("message"), str):
                    record["message"] = conversion.relocate(record["message"], lesson.filename)
    return records


def stage_submission(prepared, target):
    """A private copy of the submission: a whole folder, or just the modules of a single file.

    The module of a notebook is written as ``<module>.py``, in place of any ``.py`` beside it.
    """
    if prepared.whole_folder:
        shutil.copytree(prepared.folder, target, ignore=NOT_COPIED)
    else:
        target.mkdir()
    for lesson in prepared.runnable:
        conversion = prepared.conversions.get(lesson.module)
        if conversion is not None:
            (target / lesson.filename).write_text(conversion.module, encoding="utf-8")
        elif not prepared.whole_folder:
            shutil.copy(prepared.files[lesson.module], target / lesson.filename)


class Lane:
    """A trusted grading process (``python -m grader.lane``) that grades one submission after another.

    ``modules`` are the lessons whose probes its worker warms up. A lane that overruns a grading's
    time limit is killed; :meth:`grade` then starts a new one for the next submission.
    """

    def __init__(self, modules=ALL_MODULES, sandboxed=None):
        self.modules, self.sandboxed = modules, sandboxed
        self.process = None

    def start(self):
        environment = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": "1",
                       WORKER_MODULES_VARIABLE: ",".join(self.modules)}
        if self.sandboxed is False:
            environment[sandbox.SANDBOX_VARIABLE] = "aus"
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "grader.lane"], cwd=tempfile.gettempdir(), env=environment,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, start_new_session=True,
        )

    def grade(self, submission, lessons, results_file, basetemp, cpu_limit, timeout):
        """Grade one staged submission; returns the status of the run ("ok", "Zeitüberschreitung", "Absturz")."""
        if self.process is None or self.process.poll() is not None:
            self.start()
        request = {"abgabe": str(submission), "modules": ",".join(lesson.module for lesson in lessons),
                   "results": str(results_file), "basetemp": str(basetemp), "cpu": cpu_limit}
        answer = []
        reader = threading.Thread(target=lambda: answer.append(self.process.stdout.readline()), daemon=True)
        try:
            self.process.stdin.write((json.dumps(request) + "\n").encode())
            self.process.stdin.flush()
        except OSError:
            return "Absturz"
        reader.start()
        reader.join(timeout)
        if reader.is_alive():
            self.close()
            return "Zeitüberschreitung"
        if not answer or not answer[0]:
            self.close()
            return "Absturz"
        return "ok" if json.loads(answer[0])["done"] in (0, 1) else "Absturz"

    def output(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-3000:]

    def close(self):
        if self.process is not None:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            self.process.stdin.close()
            self.process.stdout.close()
            self.log.close()
            self.process = None


def run_tests(prepared, timeout, cpu_limit, sandboxed, lane=None):
    """Run the grading tests of the runnable lessons against a copy of the submission; return status and records."""
    lessons = prepared.runnable
    own_lane = lane is None
    lane = lane or Lane([lesson.module for lesson in lessons], sandboxed)
    try:
        with tempfile.TemporaryDirectory(prefix="bewertung-") as root:
            root = Path(root)
            stage_submission(prepared, root / "abgabe")
            results_file = root / "ergebnisse.jsonl"
            status = lane.grade(root / "abgabe", lessons, results_file, root / "pytest", cpu_limit, timeout)
            records = read_records(results_file)
            output = lane.output() if lane.process else ""
    finally:
        if own_lane:
            lane.close()
    collected = next((record["tests"] for record in records if record["kind"] == "collected"), None)
    internal = [record["message"] for record in records if record.get("cause") == "intern"]
    if not collected or internal or status == "Absturz":
        raise InternalError(f"Die Bewertungstests ließen sich nicht ausführen:\n{(internal or [output])[0]}")
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
