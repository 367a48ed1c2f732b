"""The fork server inside the sandbox: ``python -m grader.worker [--uid N] ...``.

It imports torch, NumPy and the course once, warms up every one-time cost (``torch._dynamo``,
the first optimizer step, ``torch.save``/``torch.load``, the data), and only then reports ready.
For each request it forks a child that imports the submission anew – a fresh process in all
that matters – and runs one probe (``grader.probes``) with a CPU-time limit of its own. The
parent never imports a submission. Requests come as JSON lines on stdin; for each finished
child one JSON line goes to stdout: exit code or signal, CPU and wall-clock time. A request
``{"cleanup": true}`` (between two submissions of a batch) kills every other process of the
sandbox's user and is answered once they are gone.
"""

import argparse
import contextlib
import ctypes
import json
import math
import os
import resource
import selectors
import shutil
import signal
import sys
import time

PR_SET_DUMPABLE = 4
MAX_CHILDREN = 2
# What a probe leaves in its folder; shared with the trusted side (grader.client).
OBSERVATION = "beobachtung.pt"
PHASE = "phase"
OUTPUT = "ausgabe.txt"
IMPORT_OUTPUT = "import.txt"
SUBMISSION_VARIABLE = "GRADER_ABGABE"


def drop_privileges(uid):
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def harden(memory, processes):
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # Not dumpable: no process of the submission can open /proc/<worker>/fd or trace the worker.
    ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def child(request, status_fd):
    """In the forked child: limits, output files, then the probe. Never returns."""
    code = 3
    try:
        os.close(status_fd)
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)  # the request channel is the parent's
        os.closerange(3, resource.getrlimit(resource.RLIMIT_NOFILE)[0])  # nor its wakeup pipe and selector
        os.setsid()
        cpu = math.ceil(request["cpu"])
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        from grader import probes

        probes.run(request)
        code = 0
    except BaseException:  # a defect of the probe itself, not of the submission
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


class Server:
    def __init__(self, status, isolated):
        self.status = status
        self.isolated = isolated  # inside its own sandbox: kill(-1) reaches nothing but the submissions
        self.children = {}  # pid -> (request id, start time, wall limit)
        self.selector = selectors.DefaultSelector()
        self.wakeup_read, wakeup_write = os.pipe()
        os.set_blocking(wakeup_write, False)
        signal.set_wakeup_fd(wakeup_write)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self.selector.register(0, selectors.EVENT_READ, "request")
        self.unread = b""
        self.selector.register(self.wakeup_read, selectors.EVENT_READ, "child")
        self.pending = []
        self.open = True

    def report(self, record):
        os.write(self.status, (json.dumps(record) + "\n").encode())

    def start(self, request):
        from grader import probes

        probes.warm_up(request["module"])  # a lesson graded later is warmed up when its first probe comes
        try:
            pid = os.fork()
        except OSError as error:  # e.g. the processes a submission left use up its process limit
            self.report({"id": request["id"], "exit": None, "signal": None, "cpu": 0.0, "wall": 0.0,
                         "killed": None, "fork_failed": str(error)})
            return
        if pid == 0:
            child(request, self.status)
        self.children[pid] = (request["id"], time.monotonic(), request["wall"])

    def reap(self):
        for pid in list(self.children):
            finished, status, usage = os.wait4(pid, os.WNOHANG)
            if finished == 0:
                continue
            request_id, started, _ = self.children.pop(pid)
            self.finish(pid, request_id, started, status, usage, None)

    def finish(self, pid, request_id, started, status, usage, killed):
        try:
            os.killpg(pid, signal.SIGKILL)  # whatever the probe started goes with it
        except (ProcessLookupError, PermissionError):
            pass
        self.report({
            "id": request_id,
            "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "cpu": usage.ru_utime + usage.ru_stime,
            "wall": time.monotonic() - started,
            "killed": killed,
        })

    def enforce_wall_limits(self):
        now = time.monotonic()
        for pid, (request_id, started, wall) in list(self.children.items()):
            if now - started > wall:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    os.kill(pid, signal.SIGKILL)
                _, status, usage = os.wait4(pid, 0)
                del self.children[pid]
                self.finish(pid, request_id, started, status, usage, "wall")

    def cleanup(self, request_id):
        """Kill everything the submissions left running (all processes of this uid but the worker)."""
        for _ in range(3 if self.isolated else 0):
            try:
                os.kill(-1, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in list(self.children):
            os.wait4(pid, 0)
            del self.children[pid]
        if self.isolated:  # the sandbox's own /tmp and /dev/shm live as long as the worker: empty them
            bound = [sys.prefix, sys.base_prefix, os.environ.get("PYTHONPATH", ""), os.getcwd()]
            for entry in [os.path.join(top, name) for top in ("/tmp", "/dev/shm") for name in os.listdir(top)]:
                if any(folder.startswith(entry + os.sep) or folder == entry for folder in bound):
                    continue  # holds a folder bound from outside (e.g. the virtual environment)
                if os.path.isdir(entry) and not os.path.islink(entry):
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        os.unlink(entry)
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass
        self.report({"id": request_id, "cleaned": True})

    def read_requests(self):
        data = os.read(0, 65536)
        if not data:
            self.open = False
            self.selector.unregister(0)
            return
        *lines, self.unread = (self.unread + data).split(b"\n")
        self.pending += [json.loads(line) for line in lines if line.strip()]

    def serve(self):
        while self.open or self.children or self.pending:
            while self.pending and len(self.children) < MAX_CHILDREN:
                request = self.pending.pop(0)
                if "cleanup" in request:
                    self.cleanup(request["id"])
                else:
                    self.start(request)
            deadlines = [started + wall - time.monotonic() for _, started, wall in self.children.values()]
            timeout = max(0.0, min(deadlines)) + 0.01 if deadlines else None
            for key, _ in self.selector.select(timeout):
                if key.data == "request":
                    self.read_requests()
                else:
                    os.read(self.wakeup_read, 4096)
            self.reap()
            self.enforce_wall_limits()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--uid", type=int)
    parser.add_argument("--memory", type=int, required=True)
    parser.add_argument("--processes", type=int, required=True)
    parser.add_argument("--isolated", action="store_true", help="runs in a sandbox of its own")
    parser.add_argument("--modules", required=True,
                        help="whose probes are graded: the first is warmed up before the worker reports ready")
    arguments = parser.parse_args()
    if arguments.uid is not None:
        drop_privileges(arguments.uid)
    harden(arguments.memory, arguments.processes)
    status = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # nothing but status records on the channel
    from grader import probes

    probes.warm_up(arguments.modules.split(",")[0])
    os.write(status, b'{"ready": true}\n')
    Server(status, arguments.isolated).serve()


if __name__ == "__main__":
    main()
