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
from grader.rubric import ALL_MODULES
from grader.text import nodes_within
from grader.worker import IMPORT_OUTPUT, OBSERVATION, OUTPUT, PHASE

REPO = Path(__file__).resolve().parent.parent
STAGED_GRADER = ("__init__.py", "worker.py", "probes.py", "scenarios.py", "text.py", "distributed.py", "landlock.py")
NOT_COPIED = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
MEMORY_LIMIT_BYTES = 2 * 1024**3
PROCESS_LIMIT = 64
MAX_READ_BYTES = 256 * 1024**2
MAX_LOADED_NODES = 1_000_000  # an observation of the reference has at most about 3,000


@dataclass
class Outcome:
    """What one probe left behind: the worker's report, the observation and the printed text."""

    folder: Path
    report: dict
    limit: float  # the CPU seconds the probe was allowed
    observation: dict = None
    output: str = ""
    import_output: str = ""
    phase: str = ""

    @property
    def completed(self):
        return self.observation is not None and self.phase == "done"

    @property
    def failed_at_import(self):
        """The submission's module could not even be imported: every later probe would fail alike."""
        if self.observation is not None and "import_error" in self.observation:
            return True
        return not self.completed and self.phase in ("", "import") and not self.report.get("worker_ended")

    @property
    def cpu_exceeded(self):
        return (self.report.get("signal") in (24, 9) and self.report.get("killed") is None
                and self.report.get("cpu", 0) >= self.limit - 0.5)

    @property
    def wall_exceeded(self):
        return self.report.get("killed") == "wall"


def read_untrusted(folder, name, limit=MAX_READ_BYTES):
    """The bytes of the regular file ``name`` in a probe's ``folder``, written in the sandbox; else None.

    Neither the file nor a folder on its way below ``folder`` may be a symbolic link (the probe's
    folder itself lies in one of the grader's, which the sandbox cannot change), and a named pipe
    must not block the grader.
    """
    folder = Path(folder)
    path = folder / name
    if any((folder / part).is_symlink() for part in Path(name).parents if str(part) != "."):
        return None
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            return None
        return file.read(limit + 1)[:limit]


def load_untrusted(folder, name):
    """``torch.load`` of a file from the sandbox, with ``weights_only=True``; raises on any problem."""
    import io

    import torch

    data = read_untrusted(folder, name)
    if data is None:
        raise FileNotFoundError(name)
    found = torch.load(io.BytesIO(data), weights_only=True)
    if not nodes_within(found, MAX_LOADED_NODES, 64):
        raise ValueError(f"{name} enthält zu viele oder zu tief verschachtelte Werte")
    return found


def text_of(folder, name, limit=64 * 1024):
    data = read_untrusted(folder, name, limit)
    return data.decode("utf-8", errors="replace") if data else ""


def sandbox_wanted():
    return os.environ.get(sandbox.SANDBOX_VARIABLE, "bwrap") != "aus"


class Worker:
    """One sandboxed fork server; submissions come and go as sessions (:class:`Session`), one at a time."""

    def __init__(self, root, modules=ALL_MODULES, memory=MEMORY_LIMIT_BYTES,
                 processes=PROCESS_LIMIT):
        root = Path(root)
        self.stage, self.scratch = root / "stufe", root / "arbeit"
        self.uid = sandbox.sandbox_uid()
        self.stage_grader()
        self.scratch.mkdir(mode=0o755)
        environment = {
            "PATH": "/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp",
            "PYTHONPATH": str(self.stage), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8",
            "JOBLIB_MULTIPROCESSING": "0", "MALLOC_ARENA_MAX": "2",  # threads of the ranks: less address space
        }
        argv = [sys.executable, "-s", "-m", "grader.worker", "--memory", str(memory), "--processes", str(processes),
                "--modules", ",".join(modules)]
        self.sandboxed = sandbox_wanted() and sandbox.bubblewrap() is not None
        if self.sandboxed:
            argv.append("--isolated")
            if self.uid is not None:
                argv += ["--uid", str(self.uid)]
            command, cwd, env = sandbox.command(argv, self.stage, self.scratch, environment, self.uid), None, None
        else:
            command, cwd, env = argv, self.scratch, {**environment, "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                                                     "HOME": str(self.scratch), "TMPDIR": str(self.scratch)}
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

    def stage_grader(self):
        (self.stage / "grader").mkdir(parents=True)
        for name in STAGED_GRADER:
            shutil.copy(REPO / "grader" / name, self.stage / "grader" / name)
        shutil.copytree(REPO / "course", self.stage / "course", ignore=NOT_COPIED)
        (self.stage / "abgaben").mkdir()
        readable(self.stage)
        os.chmod(self.stage.parent, 0o755)

    @property
    def alive(self):
        return self.process.poll() is None and not self.ended

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

    def session(self, submission, cpu=10.0):
        """Stage a submission (a folder of modules) and return the session that probes it.

        ``cpu`` is the CPU time in seconds a probe may use unless it asks for another limit.
        """
        with self.lock:
            self.counter += 1
            number = self.counter
        folder = self.stage / "abgaben" / f"{number:04d}"
        shutil.copytree(submission, folder, ignore=NOT_COPIED)
        readable(folder)
        scratch = self.scratch / f"{number:04d}"
        scratch.mkdir(mode=0o755)  # the grader's: the sandbox cannot rename or plant probe folders in it
        return Session(self, folder, scratch, cpu)

    def send(self, request):
        """Send a request; returns the event set when its report arrives."""
        with self.lock:
            self.counter += 1
            request["id"] = self.counter
            event = self.waiting[self.counter] = threading.Event()
        try:
            self.process.stdin.write((json.dumps(request) + "\n").encode())
            self.process.stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            event.set()
        return request["id"], event

    def report(self, number):
        with self.lock:
            self.waiting.pop(number, None)
            return self.reports.pop(number, None) or {"id": number, "exit": None, "signal": None, "worker_ended": True}

    def close(self):
        """End the worker and everything in its sandbox at once."""
        try:
            self.process.stdin.close()
        except OSError:
            pass
        if self.process.poll() is None:
            os.killpg(self.process.pid, 9)
        self.process.wait()
        self.process.stdout.close()
        self.log.close()
        shutil.rmtree(self.stage.parent, ignore_errors=True)


_PRESTARTED = []


def prestart(root, modules):
    """Start a worker now, for the grading tests to take later (:func:`take_prestarted`)."""
    _PRESTARTED.append(Worker(root, modules=modules))


def take_prestarted():
    return _PRESTARTED.pop() if _PRESTARTED else None


def readable(folder):
    for path, folders, files in os.walk(folder):
        os.chmod(path, 0o755)
        for name in files:
            os.chmod(os.path.join(path, name), 0o644)


class Session:
    """The probes of one submission in a worker; :meth:`close` removes every trace of it."""

    def __init__(self, worker, submission, scratch, cpu):
        self.worker, self.submission, self.scratch, self.cpu = worker, submission, scratch, cpu
        self.counter = 0
        self.import_failures = {}  # module -> the outcome of the probe whose import failed

    def start(self, probe, module, args=None, files=None, cpu=None, wall=None, env=None):
        """Start a probe; ``files`` (name → bytes) are placed in its folder first. Returns a handle.

        Once a module failed at import (error, endless loop, exit), its later probes are not run
        again: they get the same outcome at once.
        """
        if module in self.import_failures:
            return Pending(self.worker, None, None, None, None, None, self.import_failures[module])
        self.counter += 1
        folder = self.scratch / f"{self.counter:03d}-{probe}"
        folder.mkdir(mode=0o700)  # in the session's folder, which belongs to the grader: nothing planted
        for name, data in (files or {}).items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
        for path in [folder, *folder.rglob("*")]:
            if path.is_dir():
                os.chmod(path, 0o755)
            if self.worker.sandboxed and self.worker.uid is not None:  # the probe may replace its input files
                os.chown(path, self.worker.uid, self.worker.uid, follow_symlinks=False)
        cpu = cpu or self.cpu
        wall = wall or min(max(60.0, 20 * cpu), 300.0)
        number, event = self.worker.send({"probe": probe, "module": module, "submission": str(self.submission),
                                          "folder": str(folder), "args": args or {}, "cpu": cpu, "wall": wall,
                                          "env": env or {}})
        return Pending(self.worker, number, event, folder, cpu, wall, on_import_failure=lambda outcome:
                       self.import_failures.setdefault(module, outcome))

    def run(self, probe, module, **options):
        return self.start(probe, module, **options).result()

    def close(self):
        """Kill what the submission left running, then remove its files."""
        if self.worker.alive:
            _, event = self.worker.send({"cleanup": True})
            event.wait(timeout=60)
        shutil.rmtree(self.submission, ignore_errors=True)
        shutil.rmtree(self.scratch, ignore_errors=True)


@dataclass
class Pending:
    worker: Worker
    number: int
    event: threading.Event
    folder: Path
    cpu: float
    wall: float
    _outcome: Outcome = field(default=None, repr=False)
    on_import_failure: object = field(default=None, repr=False)

    def result(self):
        if self._outcome is None:
            self.worker.ready.wait()
            if not self.event.wait(timeout=self.wall + 60):
                os.killpg(self.worker.process.pid, 9)  # the worker itself stopped answering
            report = self.worker.report(self.number)
            observation = None
            try:
                observation = load_untrusted(self.folder, OBSERVATION)
            except Exception:
                pass
            self._outcome = Outcome(self.folder, report, self.cpu, observation if isinstance(observation, dict) else None,
                                    text_of(self.folder, OUTPUT), text_of(self.folder, IMPORT_OUTPUT),
                                    text_of(self.folder, PHASE, 16).strip())
            if self._outcome.failed_at_import and self.on_import_failure:
                self.on_import_failure(self._outcome)
        return self._outcome
