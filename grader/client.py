"""The trusted side of the runner: starts the sandboxed worker and reads what its probes left.

Nothing here imports the submission. Files coming back from the sandbox are opened without
following symbolic links and loaded with ``weights_only=True``.
"""

import json
import os
import shutil
import stat
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from grader import sandbox
from grader.worker import IMPORT_OUTPUT, OBSERVATION, OUTPUT, PHASE, SUBMISSION_VARIABLE

REPO = Path(__file__).resolve().parent.parent
STAGED_GRADER = ("__init__.py", "worker.py", "probes.py", "scenarios.py", "text.py")
NOT_COPIED = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
MEMORY_LIMIT_BYTES = 2 * 1024**3
PROCESS_LIMIT = 64
MAX_READ_BYTES = 256 * 1024**2


@dataclass
class Outcome:
    """What one probe left behind: the worker's report, the observation and the printed text."""

    folder: Path
    report: dict
    observation: dict = None
    output: str = ""
    import_output: str = ""
    phase: str = ""

    @property
    def completed(self):
        return self.observation is not None and self.phase == "done"

    @property
    def cpu_exceeded(self):
        return self.report.get("signal") in (24, 9) and self.report.get("killed") is None

    @property
    def wall_exceeded(self):
        return self.report.get("killed") == "wall"


def read_untrusted(path, limit=MAX_READ_BYTES):
    """The bytes of a regular file the sandbox may have written; None if it is none."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            return None
        return file.read(limit + 1)[:limit]


def load_untrusted(path, **options):
    """``torch.load`` of a file from the sandbox, with ``weights_only=True``; raises on any problem."""
    import io

    import torch

    data = read_untrusted(path)
    if data is None:
        raise FileNotFoundError(path)
    return torch.load(io.BytesIO(data), weights_only=True, **options)


def text_of(path, limit=64 * 1024):
    data = read_untrusted(path, limit)
    return data.decode("utf-8", errors="replace") if data else ""


def sandbox_wanted():
    return os.environ.get(sandbox.SANDBOX_VARIABLE, "bwrap") != "aus"


class Worker:
    """One sandboxed fork server for one submission folder (its modules are imported per probe)."""

    def __init__(self, submission, root, modules=("checkpoints", "training_state"), memory=MEMORY_LIMIT_BYTES,
                 processes=PROCESS_LIMIT):
        root = Path(root)
        self.stage, self.scratch = root / "stufe", root / "arbeit"
        self.uid = sandbox.sandbox_uid()
        self.stage_files(Path(submission))
        self.scratch.mkdir(mode=0o755)
        environment = {
            "PATH": "/usr/bin:/bin", "HOME": str(self.scratch), "TMPDIR": str(self.scratch),
            "PYTHONPATH": str(self.stage), SUBMISSION_VARIABLE: str(self.stage / "abgabe"),
            "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8",
        }
        argv = [sys.executable, "-s", "-m", "grader.worker", "--memory", str(memory), "--processes", str(processes),
                "--modules", ",".join(modules)]
        self.sandboxed = sandbox_wanted() and sandbox.bubblewrap() is not None
        if self.sandboxed:
            if self.uid is not None:
                argv += ["--uid", str(self.uid)]
                os.chown(self.scratch, self.uid, self.uid)
            command, cwd, env = sandbox.command(argv, self.stage, self.scratch, environment, self.uid), None, None
        else:
            command, cwd, env = argv, self.scratch, {**environment, "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        self.log = open(root / "worker.log", "wb")
        self.process = subprocess.Popen(
            command, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
            start_new_session=True,
        )
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.reports, self.waiting = {}, {}
        self.ended = False
        self.counter = 0
        threading.Thread(target=self.read_reports, daemon=True).start()

    def stage_files(self, submission):
        (self.stage / "grader").mkdir(parents=True)
        for name in STAGED_GRADER:
            shutil.copy(REPO / "grader" / name, self.stage / "grader" / name)
        shutil.copytree(REPO / "course", self.stage / "course", ignore=NOT_COPIED)
        shutil.copytree(submission, self.stage / "abgabe", ignore=NOT_COPIED)
        for folder, folders, files in os.walk(self.stage):
            os.chmod(folder, 0o755)
            for name in files:
                os.chmod(os.path.join(folder, name), 0o644)
        os.chmod(self.stage.parent, 0o755)

    def read_reports(self):
        for line in self.process.stdout:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("ready"):
                self.ready.set()
                continue
            with self.lock:
                self.reports[record.get("id")] = record
                event = self.waiting.get(record.get("id"))
            if event:
                event.set()
        with self.lock:
            self.ended = True
            for event in self.waiting.values():
                event.set()
        self.ready.set()

    def start(self, probe, module, args=None, files=None, cpu=10, wall=None, env=None):
        """Start a probe; ``files`` (name → bytes) are placed in its folder first. Returns a handle."""
        with self.lock:
            self.counter += 1
            number = self.counter
            event = self.waiting[number] = threading.Event()
        folder = self.scratch / f"{number:03d}-{probe}"
        folder.mkdir(mode=0o700)  # fails if the sandbox planted it: then nothing is written
        for name, data in (files or {}).items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
        for path in [folder, *folder.rglob("*")]:
            if path.is_dir():
                os.chmod(path, 0o755)
            if self.uid is not None and self.sandboxed:
                os.chown(path, self.uid, self.uid) if path.is_dir() else None
        request = {"id": number, "probe": probe, "module": module, "folder": str(folder), "args": args or {},
                   "cpu": cpu, "wall": wall or max(60.0, 20 * cpu), "env": env or {}}
        try:
            self.process.stdin.write((json.dumps(request) + "\n").encode())
            self.process.stdin.flush()
        except (BrokenPipeError, ValueError):
            event.set()
        return Pending(self, number, folder, request["wall"])

    def run(self, probe, module, **options):
        return self.start(probe, module, **options).result()

    def outcome(self, number, folder):
        with self.lock:
            report = self.reports.pop(number, None) or {"id": number, "exit": None, "signal": None, "worker_ended": True}
            self.waiting.pop(number, None)
        observation = None
        try:
            observation = load_untrusted(folder / OBSERVATION)
        except Exception:
            pass
        if not isinstance(observation, dict):
            observation = None
        return Outcome(folder, report, observation, text_of(folder / OUTPUT),
                       text_of(folder / IMPORT_OUTPUT), text_of(folder / PHASE, 16).strip())

    def close(self):
        """End the worker and everything in its sandbox at once: all results are in."""
        try:
            self.process.stdin.close()
        except OSError:
            pass
        if self.process.poll() is None:
            os.killpg(self.process.pid, 9)
        self.process.wait()
        self.process.stdout.close()
        self.log.close()


@dataclass
class Pending:
    worker: Worker
    number: int
    folder: Path
    wall: float
    _outcome: Outcome = field(default=None, repr=False)

    def result(self):
        if self._outcome is None:
            self.worker.ready.wait()
            event = self.worker.waiting.get(self.number)
            if event is not None and not event.wait(timeout=self.wall + 60):
                os.killpg(self.worker.process.pid, 9)  # the worker itself stopped answering
            self._outcome = self.worker.outcome(self.number, self.folder)
        return self._outcome
