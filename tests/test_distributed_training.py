"""The distributed training demo of lesson 5, its launcher for several nodes and the Slurm job script.

Every run is real: two ranks (two processes on this machine, gloo, CPU), saved with DCP through
``solutions.verteilt`` (or the stubs), resumed in new processes and compared bit for bit with a run
that was never interrupted. The tests wait for printed lines instead of sleeping.
"""

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
WAIT = 600  # seconds; generous for a loaded two-core machine
STEPS, EVERY, STOP = 60, 20, 30
ARGUMENTS = ["--schritte", str(STEPS), "--alle", str(EVERY)]


def environment(**extra):
    return {**os.environ, "PYTHONPATH": str(REPO), "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
            "OMP_NUM_THREADS": "1", **extra}


def demo(workdir, *arguments):
    """``python -m course.distributed_training`` (starts torchrun itself with two ranks)."""
    return subprocess.run([sys.executable, "-m", "course.distributed_training", *arguments], cwd=workdir,
                          env=environment(), capture_output=True, text=True, timeout=WAIT)


def equal(state, other):
    if isinstance(state, dict):
        return state.keys() == other.keys() and all(equal(state[key], other[key]) for key in state)
    if isinstance(state, list):
        return len(state) == len(other) and all(map(equal, state, other))
    return torch.equal(state, other) if isinstance(state, torch.Tensor) else state == other


def load(path):
    return torch.load(path, weights_only=True)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Running:
    """A process (in its own process group) whose output lines can be awaited one by one."""

    def __init__(self, command, workdir, env):
        self.errors_path = Path(workdir) / f"stderr-{len(RUNNING)}.txt"
        with self.errors_path.open("w", encoding="utf-8") as errors:
            self.process = subprocess.Popen(command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=errors,
                                            text=True, start_new_session=True)
        RUNNING.append(self)
        self.lines = []
        self._queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, pattern):
        while True:
            try:
                line = self._queue.get(timeout=WAIT)
            except queue.Empty:
                pytest.fail(f"keine Zeile {pattern!r} nach {WAIT} s: {self.lines}")
            if line is None:
                pytest.fail(f"Ende ohne Zeile {pattern!r}: {self.lines}, stderr: {self.stderr()}")
            self.lines.append(line)
            if re.search(pattern, line):
                return line

    def finish(self):
        """Wait for the end; read what is left. Lines of processes the script left behind are not awaited."""
        self.process.wait(timeout=WAIT)
        deadline = time.monotonic() + 30
        try:
            while (line := self._queue.get(timeout=max(0.0, deadline - time.monotonic()))) is not None:
                self.lines.append(line)
        except queue.Empty:
            pass
        return self.process.returncode

    def stderr(self):
        return self.errors_path.read_text(encoding="utf-8")

    def close(self):
        """Kill the whole process group, also children the process left behind."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=WAIT)
        self.process.stdout.close()


RUNNING = []


@pytest.fixture(autouse=True)
def close_processes():
    yield
    while RUNNING:
        RUNNING.pop().close()


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """Model and optimizer after STEPS steps without interruption (reference solution, two ranks)."""
    folder = tmp_path_factory.mktemp("ohne-unterbrechung")
    result = demo(folder, "--loesung", *ARGUMENTS, "--gewichte", "ende.pt")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Das Training ist abgeschlossen: {STEPS} Schritte" in result.stdout
    return load(folder / "ende.pt")


def test_stub_explains_what_to_do(tmp_path):
    result = demo(tmp_path, *ARGUMENTS)
    assert result.returncode == 1
    assert "Die Aufgabe ist noch nicht implementiert. Ergänzen Sie exercises/verteilt.py" in result.stderr
    assert "make train VERTEILT=1 LOESUNG=1" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "checkpoints-verteilt").exists()


@pytest.mark.parametrize("asynchronous", [False, True], ids=["save_checkpoint", "save_checkpoint_async"])
def test_sigterm_saves_and_a_new_start_resumes_bitwise(tmp_path, uninterrupted, asynchronous):
    mode = ["--async"] if asynchronous else []
    first = demo(tmp_path, "--loesung", *ARGUMENTS, *mode, "--sigterm-bei", str(STOP))
    assert first.returncode == 143, first.stdout + first.stderr
    assert "Traceback" not in first.stderr, first.stderr
    assert (f"Unterbrochen (SIGTERM): Der Stand nach Schritt {STOP} ist in "
            f"'checkpoints-verteilt/schritt-{STOP:06d}' gespeichert") in first.stdout
    folder = tmp_path / "checkpoints-verteilt"
    assert sorted(path.name for path in folder.iterdir()) == [f"schritt-{EVERY:06d}", f"schritt-{STOP:06d}"]
    assert sorted(path.name for path in (folder / f"schritt-{STOP:06d}").iterdir()) == [
        ".metadata", "__0_0.distcp", "__1_0.distcp"]

    second = demo(tmp_path, "--loesung", *ARGUMENTS, *mode, "--gewichte", "ende.pt")
    assert second.returncode == 0, second.stdout + second.stderr
    assert f"Setze das Training nach Schritt {STOP} fort" in second.stdout
    assert equal(load(tmp_path / "ende.pt"), uninterrupted)


def test_ctrl_c_saves_after_the_running_step_and_the_resume_is_bitwise(tmp_path, uninterrupted):
    """Strg+C reaches the launcher and both ranks (the terminal's process group) at an arbitrary step."""
    running = Running([sys.executable, "-m", "course.distributed_training", "--loesung", "--schritte", "100000",
                       "--alle", "7"], tmp_path, environment())
    running.wait_for(r"^Schritt 14/")
    os.killpg(running.process.pid, signal.SIGINT)
    status = running.finish()
    assert status == 130, (running.lines, running.stderr())
    assert "Traceback" not in running.stderr() and "KeyboardInterrupt" not in running.stderr(), running.stderr()
    interrupted = [line for line in running.lines if line.startswith("Unterbrochen")]
    assert len(interrupted) == 1, running.lines
    step = int(re.fullmatch(r"Unterbrochen \(Strg\+C\): Der Stand nach Schritt (\d+) ist in "
                            r"'checkpoints-verteilt/schritt-(\d+)' gespeichert; ein neuer Aufruf setzt genau dort "
                            r"fort\.", interrupted[0])[1])
    assert step >= 14
    assert (tmp_path / "checkpoints-verteilt" / f"schritt-{step:06d}" / ".metadata").is_file()

    if step < STEPS:  # weiter bis STEPS: dasselbe Ergebnis wie ohne Unterbrechung
        resumed = demo(tmp_path, "--loesung", *ARGUMENTS, "--gewichte", "ende.pt")
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert f"Setze das Training nach Schritt {step} fort" in resumed.stdout
        assert equal(load(tmp_path / "ende.pt"), uninterrupted)


def test_torchrun_directly_runs_the_ranks(tmp_path, uninterrupted):
    result = subprocess.run(
        ["torchrun", "--standalone", "--nproc-per-node=2", "-m", "course.distributed_training", "--loesung",
         *ARGUMENTS, "--gewichte", "ende.pt"],
        cwd=tmp_path, env=environment(), capture_output=True, text=True, timeout=WAIT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("Das Training ist abgeschlossen") == 1  # nur Rang 0 schreibt
    assert equal(load(tmp_path / "ende.pt"), uninterrupted)


def test_make_train_verteilt_runs_the_demo():
    dry = subprocess.run(["make", "-n", "train", "VERTEILT=1", "LOESUNG=1", "SCHRITTE=30"], cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    assert re.search(r"-m course\.distributed_training\s+--loesung\s+--schritte 30\s*$", dry.stdout, re.MULTILINE), dry.stdout
    other = subprocess.run(["make", "-n", "train", "LOESUNG=1", "EPOCHEN=3"], cwd=REPO, capture_output=True,
                           text=True, timeout=60)
    assert re.search(r"-m course\s+--loesung\s+--epochen 3\s*$", other.stdout, re.MULTILINE), other.stdout
    assert "VERTEILT=1" in subprocess.run(["make", "help"], cwd=REPO, capture_output=True, text=True).stdout


def test_two_nodes_meet_over_c10d_save_into_one_folder_and_resume_bitwise(tmp_path, uninterrupted):
    """``course/launch_node.sh`` twice on this machine: two "nodes" with one rank each."""
    def nodes(*arguments):
        port, run_id = free_port(), f"lauf-{len(RUNNING)}"
        env = environment(KNOTEN="2", HAUPTKNOTEN=f"127.0.0.1:{port}", LAUF=run_id)
        started = [Running(["bash", str(REPO / "course" / "launch_node.sh"), "--ordner", "gemeinsam", "--loesung",
                            *ARGUMENTS, *arguments], tmp_path, env) for _ in range(2)]
        return [node.finish() for node in started], [line for node in started for line in node.lines]

    statuses, lines = nodes("--sigterm-bei", str(STOP))
    assert all(status != 0 for status in statuses), lines  # torchrun meldet die Unterbrechung als Fehler
    assert sum(line.startswith(f"Unterbrochen (SIGTERM): Der Stand nach Schritt {STOP}") for line in lines) == 1
    checkpoint = tmp_path / "gemeinsam" / f"schritt-{STOP:06d}"
    assert sorted(path.name for path in checkpoint.iterdir()) == [".metadata", "__0_0.distcp", "__1_0.distcp"]

    statuses, lines = nodes("--gewichte", "ende.pt")
    assert statuses == [0, 0], lines
    assert any(line.startswith(f"Setze das Training nach Schritt {STOP} fort") for line in lines), lines
    assert equal(load(tmp_path / "ende.pt"), uninterrupted)


FAKE_SRUN = """#!/usr/bin/env bash
# Nachgebildetes srun: startet den Befehl einmal je Knoten (SLURM_JOB_NUM_NODES), gibt SIGTERM weiter.
children=()
for node in $(seq 0 $((SLURM_JOB_NUM_NODES - 1))); do
    SLURM_NODEID=$node SLURM_PROCID=$node "$@" &
    children+=($!)
done
trap 'kill -TERM "${children[@]}" 2>/dev/null' TERM
status=0
for child in "${children[@]}"; do
    while true; do
        wait "$child"; code=$?
        kill -0 "$child" 2>/dev/null || break
    done
    [ "$code" -gt "$status" ] && status=$code
done
exit $status
"""
FAKE_SCONTROL = """#!/usr/bin/env bash
# Nachgebildetes scontrol: "show hostnames" nennt 127.0.0.1 je Knoten, "requeue" wird nur vermerkt.
case "$1 $2" in
    "show hostnames") for _ in $(seq "$SLURM_JOB_NUM_NODES"); do echo 127.0.0.1; done ;;
    requeue*) echo "requeue $2" >> "$SCONTROL_PROTOKOLL" ;;
    *) exit 1 ;;
esac
"""


def test_slurm_script_is_valid_bash_and_asks_for_the_signal():
    script = REPO / "course" / "slurm_job.sh"
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0
    text = script.read_text(encoding="utf-8")
    for directive in ("#SBATCH --signal=B:TERM@300", "#SBATCH --requeue", "#SBATCH --nodes=2",
                      "#SBATCH --ntasks-per-node=1"):
        assert directive in text
    assert re.search(r"--rdzv-backend=c10d\s*\\\n\s*--rdzv-endpoint=\"\$HAUPTKNOTEN:\$PORT\"", text)


def test_slurm_job_forwards_sigterm_saves_requeues_and_resumes_bitwise(tmp_path, uninterrupted):
    """The job script with faked srun and scontrol: SIGTERM to the batch shell (B:TERM), then a new start."""
    fake = tmp_path / "slurm"
    fake.mkdir()
    for name, text in (("srun", FAKE_SRUN), ("scontrol", FAKE_SCONTROL)):
        (fake / name).write_text(text, encoding="utf-8")
        (fake / name).chmod(0o755)
    log = tmp_path / "scontrol.txt"

    def job(*arguments):
        env = environment(SLURM_JOB_NODELIST="knoten[1-2]", SLURM_JOB_NUM_NODES="2", SLURM_JOB_ID="4711",
                          SLURM_JOB_NAME="verteilt", ORDNER=str(tmp_path / "gemeinsam"), PROZESSE_JE_KNOTEN="1",
                          PORT=str(free_port()), SCONTROL_PROTOKOLL=str(log))
        env["PATH"] = f"{fake}{os.pathsep}{env['PATH']}"
        return Running(["bash", str(REPO / "course" / "slurm_job.sh"), "--loesung", *arguments], tmp_path, env)

    first = job("--schritte", "100000", "--alle", "5")  # das Ziel ändert nichts am Zustand nach jedem Schritt
    first.wait_for(r"^Schritt 10/")
    os.kill(first.process.pid, signal.SIGTERM)  # nur an das Skript, wie --signal=B:TERM
    assert first.finish() == 0, (first.lines, first.stderr())
    assert "SIGTERM: Das Training speichert und endet; der Job kommt wieder in die Warteschlange." in first.lines
    interrupted = [line for line in first.lines if line.startswith("Unterbrochen (SIGTERM)")]
    assert len(interrupted) == 1, first.lines
    step = int(re.search(r"nach Schritt (\d+) ist", interrupted[0])[1])
    assert 10 <= step < STEPS
    assert (tmp_path / "gemeinsam" / f"schritt-{step:06d}" / ".metadata").is_file()
    assert log.read_text(encoding="utf-8") == "requeue 4711\n"

    second = job(*ARGUMENTS, "--gewichte", "ende.pt")  # der neu eingereihte Job
    assert second.finish() == 0, (second.lines, second.stderr())
    assert any(line.startswith(f"Setze das Training nach Schritt {step} fort") for line in second.lines), second.lines
    assert log.read_text(encoding="utf-8") == "requeue 4711\n"  # kein zweites requeue ohne Signal
    assert equal(load(tmp_path / "ende.pt"), uninterrupted)
