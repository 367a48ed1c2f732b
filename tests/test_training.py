"""The training demo trains, saves after every epoch and resumes from the saved epoch.

Strg+C and SIGTERM end it at any moment with one German line, no traceback and the shell's usual
exit status. The tests wait for printed lines instead of sleeping, so that a loaded machine only
makes them slower.
"""

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parent.parent
WAIT = 300  # seconds; generous for a loaded two-core machine
STEPS_PER_EPOCH = 23
EXIT_STATUS = {signal.SIGINT: 130, signal.SIGTERM: 143}
SIGNAL_NAME = {signal.SIGINT: "Strg+C", signal.SIGTERM: "SIGTERM"}


def demo(workdir, *arguments):
    return subprocess.run(
        [sys.executable, "-m", "course", *arguments],
        cwd=workdir, env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True, text=True, timeout=WAIT,
    )


class RunningDemo:
    """The demo as a subprocess whose output lines can be awaited one by one."""

    def __init__(self, workdir, *arguments, pythonpath=(REPO,)):
        self.errors_path = workdir / "stderr.txt"
        with self.errors_path.open("w", encoding="utf-8") as errors:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "course", *arguments], cwd=workdir,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(map(str, pythonpath))},
                stdout=subprocess.PIPE, stderr=errors, text=True,
            )
        RUNNING.append(self)
        self.lines = []
        self._queue = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, prefix):
        """Read lines until one starts with ``prefix``; fail with everything read so far if none does."""
        while True:
            try:
                line = self._queue.get(timeout=WAIT)
            except queue.Empty:
                self.process.kill()
                pytest.fail(f"keine Zeile {prefix!r} nach {WAIT} s: {self.lines}")
            if line is None:
                pytest.fail(f"Ende ohne Zeile {prefix!r}: {self.lines}, stderr: {self.stderr()}")
            self.lines.append(line)
            if line.startswith(prefix):
                return line

    def finish(self):
        """Wait for the end; return (exit status, lines after the last awaited one, stderr)."""
        already = len(self.lines)
        self.process.wait(timeout=WAIT)
        self._reader.join(timeout=WAIT)
        while (line := self._queue.get(timeout=WAIT)) is not None:
            self.lines.append(line)
        return self.process.returncode, self.lines[already:], self.stderr()

    def stderr(self):
        return self.errors_path.read_text(encoding="utf-8")

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=WAIT)
        self._reader.join(timeout=WAIT)
        self.process.stdout.close()


RUNNING = []


@pytest.fixture(autouse=True)
def close_demos():
    """Whatever a test asserted: no demo outlives it, no pipe stays open."""
    yield
    while RUNNING:
        RUNNING.pop().close()


def assert_one_clean_line(status, after, errors, sent, pattern):
    """Exit status 128 + signal, exactly one line after the signal that matches ``pattern``, no traceback."""
    assert "Traceback" not in errors and "KeyboardInterrupt" not in errors, errors
    assert status == EXIT_STATUS[sent], (status, after, errors)
    assert len(after) == 1, after
    match = re.fullmatch(pattern, after[0])
    assert match, after[0]
    return match


def test_demo_with_reference_resumes_from_saved_epoch(tmp_path):
    first = demo(tmp_path, "--lektion", "1", "--loesung", "--epochen", "2")
    assert first.returncode == 0, first.stderr
    assert "Kein Checkpoint" in first.stdout
    assert [line.split(":")[0] for line in first.stdout.splitlines() if line.startswith("Epoche")] == [
        "Epoche 1/2", "Epoche 2/2"
    ]
    assert torch.load(tmp_path / "checkpoint.pth", weights_only=True)["epoch"] == 2

    second = demo(tmp_path, "--lektion", "1", "--loesung", "--epochen", "3")
    assert second.returncode == 0, second.stderr
    assert "Setze das Training nach 2 abgeschlossenen Epochen fort." in second.stdout
    assert [line.split(":")[0] for line in second.stdout.splitlines() if line.startswith("Epoche")] == ["Epoche 3/3"]
    assert torch.load(tmp_path / "checkpoint.pth", weights_only=True)["epoch"] == 3

    third = demo(tmp_path, "--lektion", "1", "--loesung", "--epochen", "3")
    assert "Das Training ist bereits abgeschlossen: 3 von 3 Epochen." in third.stdout


def test_demo_reports_progress_and_learns(tmp_path):
    result = demo(tmp_path, "--lektion", "1", "--loesung", "--epochen", "3")
    last = [line for line in result.stdout.splitlines() if line.startswith("Epoche 3/3")][0]
    accuracy = float(last.split("Genauigkeit ")[1].split(" %")[0].replace(",", "."))
    assert accuracy > 80, last
    assert "Verlust" in last and last.endswith(" s")


@pytest.mark.parametrize("lesson, hint", [("1", "make train LEKTION=1 LOESUNG=1"), ("2", "make train LOESUNG=1")])
def test_demo_with_untouched_stubs_explains_what_to_do(tmp_path, lesson, hint):
    result = demo(tmp_path, "--lektion", lesson)
    assert result.returncode == 1
    assert "noch nicht implementiert" in result.stderr
    assert hint in result.stderr


def final_weights(path):
    return torch.load(path, weights_only=True)["model_state_dict"]


def test_sigterm_saves_and_the_resumed_run_ends_with_the_same_weights(tmp_path):
    epochs = "10"
    (tmp_path / "durchgehend").mkdir()
    uninterrupted = demo(tmp_path / "durchgehend", "--loesung", "--epochen", epochs)
    assert "Das Training ist abgeschlossen: 10 Epochen." in uninterrupted.stdout, uninterrupted.stderr

    interrupted_dir = tmp_path / "unterbrochen"
    interrupted_dir.mkdir()
    running = RunningDemo(interrupted_dir, "--loesung", "--epochen", epochs)
    running.wait_for("Kein Checkpoint")
    running.wait_for("Epoche 1/10")
    running.process.send_signal(signal.SIGTERM)
    assert_one_clean_line(*running.finish(), signal.SIGTERM, LESSON_TWO_INTERRUPTED.format(name="SIGTERM"))
    saved = torch.load(interrupted_dir / "trainingszustand.pth", weights_only=True)["progress"]
    assert 0 < saved["global_step"] < 10 * STEPS_PER_EPOCH

    resumed = demo(interrupted_dir, "--loesung", "--epochen", epochs)
    assert "Das Training ist abgeschlossen: 10 Epochen." in resumed.stdout, resumed.stderr
    expected = final_weights(tmp_path / "durchgehend" / "trainingszustand.pth")
    actual = final_weights(interrupted_dir / "trainingszustand.pth")
    assert expected.keys() == actual.keys()
    assert all(torch.equal(expected[key], actual[key]) for key in expected)


LESSON_TWO_INTERRUPTED = (
    r"Unterbrochen \({name}\): In 'trainingszustand\.pth' ist der Stand nach Schritt (?P<step>\d+) "
    r"\(Epoche (?:(?P<epoch>\d+)/10, (?P<batch>\d+) von 23 Batches|(?P<finished>\d+)/10 abgeschlossen)\) "
    r"gespeichert; ein neuer Aufruf setzt genau dort fort\."
)


def test_heavy_imports_come_after_the_signal_handlers():
    """``python -m course`` imports torch only after it catches the signals (here: not at all for --help)."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "course", "--help"], cwd=REPO,
                            capture_output=True, text=True, timeout=WAIT)
    assert result.returncode == 0, result.stderr
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    assert "argparse" in imported
    assert not {name for name in imported if name.split(".")[0] in {"torch", "numpy", "course.training"}}


def slow_student_package(tmp_path):
    """Student modules whose import takes ten minutes: a signal is then certain to arrive at start-up."""
    package = tmp_path / "langsam" / "exercises"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for name in ("checkpoints.py", "training_state.py"):
        (package / name).write_text("import time\n\ntime.sleep(600)\n")
    return package.parent


@pytest.mark.parametrize("sent", [signal.SIGINT, signal.SIGTERM], ids=lambda sent: sent.name)
@pytest.mark.parametrize("lesson", ["1", "2"])
def test_signal_at_start_up_ends_at_once_and_says_nothing_was_saved(tmp_path, lesson, sent):
    running = RunningDemo(tmp_path, "--lektion", lesson, pythonpath=(slow_student_package(tmp_path), REPO))
    running.wait_for("Trainingsdemo der Lektion")  # the handlers are installed, torch is not imported yet
    running.process.send_signal(sent)
    assert_one_clean_line(*running.finish(), sent,
                          rf"Abgebrochen \({re.escape(SIGNAL_NAME[sent])}\) vor Beginn des Trainings: "
                          r"Es wurde nichts gespeichert\.")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["langsam", "stderr.txt"]  # nothing saved


@pytest.mark.parametrize("sent", [signal.SIGINT, signal.SIGTERM], ids=lambda sent: sent.name)
def test_signal_in_lesson_one_training_names_the_saved_epoch(tmp_path, sent):
    running = RunningDemo(tmp_path, "--lektion", "1", "--loesung", "--epochen", "30")
    running.wait_for("Epoche 1/30")
    running.process.send_signal(sent)
    match = assert_one_clean_line(
        *running.finish(), sent,
        rf"Unterbrochen \({re.escape(SIGNAL_NAME[sent])}\) in Epoche (?P<running>\d+)/30: In 'checkpoint\.pth' ist "
        r"der Stand nach (?P<saved>\d+) abgeschlossenen Epochen? gespeichert; ein neuer Aufruf beginnt "
        r"Epoche (?P<next>\d+) von vorn\.")
    saved = int(match["saved"])
    assert int(match["running"]) == int(match["next"]) == saved + 1
    assert torch.load(tmp_path / "checkpoint.pth", weights_only=True)["epoch"] == saved >= 1

    resumed = RunningDemo(tmp_path, "--lektion", "1", "--loesung", "--epochen", "30")
    resumed.wait_for(f"Setze das Training nach {saved} abgeschlossenen Epoche")
    assert resumed.wait_for("Epoche").startswith(f"Epoche {saved + 1}/30")
    resumed.process.send_signal(signal.SIGINT)
    status, _, errors = resumed.finish()
    assert status == 130 and "Traceback" not in errors


SIGNAL_IN_FIRST_STEP = """
import os
import signal


def load_checkpoint(model, optimizer, filename="checkpoint.pth"):
    print("Kein Checkpoint: Das Training beginnt bei Epoche 0.")
    forward = model.forward

    def forward_and_press_ctrl_c(*inputs):  # Strg+C mitten im ersten Trainingsschritt
        os.kill(os.getpid(), signal.SIGINT)
        return forward(*inputs)

    model.forward = forward_and_press_ctrl_c
    return 0


def save_checkpoint(model, optimizer, epoch, filename="checkpoint.pth"):
    raise AssertionError("darf nicht gespeichert werden")
"""


def test_sigint_in_lesson_one_before_the_first_save_says_nothing_was_saved(tmp_path):
    package = tmp_path / "abgabe" / "exercises"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "checkpoints.py").write_text(SIGNAL_IN_FIRST_STEP)
    running = RunningDemo(tmp_path, "--lektion", "1", "--epochen", "30", pythonpath=(package.parent, REPO))
    running.wait_for("Kein Checkpoint")
    assert_one_clean_line(*running.finish(), signal.SIGINT,
                          r"Unterbrochen \(Strg\+C\) in Epoche 1/30: Es wurde noch nichts gespeichert; "
                          r"ein neuer Aufruf beginnt von vorn\.")
    assert not (tmp_path / "checkpoint.pth").exists()


def test_sigint_in_lesson_two_saves_the_step_and_the_next_run_says_where_it_resumes(tmp_path):
    running = RunningDemo(tmp_path, "--loesung", "--epochen", "30")
    running.wait_for("Epoche 1/30")
    running.process.send_signal(signal.SIGINT)
    match = assert_one_clean_line(*running.finish(), signal.SIGINT,
                                  LESSON_TWO_INTERRUPTED.format(name=r"Strg\+C").replace("/10", "/30"))
    saved = torch.load(tmp_path / "trainingszustand.pth", weights_only=True)["progress"]
    assert saved["global_step"] == int(match["step"])
    if match["finished"]:
        assert (saved["epoch"], saved["batch"]) == (int(match["finished"]), 0)
    else:
        assert (saved["epoch"] + 1, saved["batch"]) == (int(match["epoch"]), int(match["batch"]))

    resumed = RunningDemo(tmp_path, "--loesung", "--epochen", "30")
    line = resumed.wait_for("Setze das Training")
    assert line == (f"Setze das Training nach Schritt {saved['global_step']} fort: Epoche {saved['epoch'] + 1}/30, "
                    f"Batch {saved['batch'] + 1} von {STEPS_PER_EPOCH}.")
    resumed.process.send_signal(signal.SIGTERM)
    status, _, errors = resumed.finish()
    assert status == 143 and "Traceback" not in errors


def test_lesson_two_reports_the_mean_loss_and_accuracy_of_each_epoch(tmp_path):
    result = demo(tmp_path, "--loesung", "--epochen", "2")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("Epoche")]
    assert len(lines) == 2
    for line in lines:
        assert re.fullmatch(r"Epoche [12]/2: Verlust \d+,\d{4}, Genauigkeit \d+,\d %, \d+,\d\d s", line), line
    losses = [float(re.search(r"Verlust (\S+),", line)[1].replace(",", ".")) for line in lines]
    assert losses[1] < losses[0]  # the mean falls; the best batch loss would not say that


def managed_files(workdir):
    return sorted(path.name for path in (workdir / "checkpoints").iterdir())


def test_managed_demo_keeps_three_and_the_best_and_resumes_from_the_newest_valid_file(tmp_path):
    """``--verwaltung``: the CheckpointManager of lesson 4 in the demo (``make train VERWALTUNG=1``)."""
    first = demo(tmp_path, "--verwaltung", "--loesung", "--epochen", "8")
    assert first.returncode == 0, first.stderr
    assert "Kein gültiger Checkpoint in 'checkpoints'" in first.stdout
    assert managed_files(tmp_path) == ["schritt-000138.pt", "schritt-000161.pt", "schritt-000184.pt"]
    # An old checkpoint that is the best by far, and a truncated newest one: a new process must
    # keep the first (its value is in the file) and resume from the newest file that loads.
    folder = tmp_path / "checkpoints"
    checkpoint = torch.load(folder / "schritt-000138.pt", weights_only=True)
    assert checkpoint["metrics"]["verlust"] > 0
    torch.save({**checkpoint, "step": 23, "metrics": {"verlust": 0.0}}, folder / "schritt-000023.pt")
    newest = folder / "schritt-000184.pt"
    newest.write_bytes(newest.read_bytes()[:1000])

    second = demo(tmp_path, "--verwaltung", "--loesung", "--epochen", "8")
    assert second.returncode == 0, second.stderr
    lines = second.stdout.splitlines()
    assert any(line.startswith("Überspringe schritt-000184.pt") for line in lines), lines
    assert "Lade schritt-000161.pt" in second.stdout
    assert "Setze das Training nach Schritt 161 fort: Epoche 8/8, Batch 1 von 23." in second.stdout
    assert "Das Training ist abgeschlossen: 8 Epochen." in second.stdout
    assert managed_files(tmp_path) == ["schritt-000023.pt", "schritt-000138.pt", "schritt-000161.pt",
                                       "schritt-000184.pt"]
    assert torch.load(newest, weights_only=True)["step"] == 184  # written anew


def test_managed_demo_resumes_bit_for_bit_after_sigint(tmp_path):
    (tmp_path / "durchgehend").mkdir()
    uninterrupted = demo(tmp_path / "durchgehend", "--verwaltung", "--loesung", "--epochen", "10")
    assert uninterrupted.returncode == 0, uninterrupted.stderr

    workdir = tmp_path / "unterbrochen"
    workdir.mkdir()
    running = RunningDemo(workdir, "--verwaltung", "--loesung", "--epochen", "10")
    running.wait_for("Epoche 1/10")
    running.process.send_signal(signal.SIGINT)
    status, after, errors = running.finish()
    assert "Traceback" not in errors and status == 130, (status, after, errors)
    match = re.fullmatch(r"Unterbrochen \(Strg\+C\): In '(?P<path>checkpoints/schritt-(?P<step>\d{6})\.pt)' ist der "
                         r"Stand nach Schritt (?P<said>\d+) .* gespeichert; ein neuer Aufruf setzt genau dort fort\.",
                         after[-1])
    assert match, after
    assert int(match["step"]) == int(match["said"])
    assert torch.load(workdir / match["path"], weights_only=True)["step"] == int(match["said"])

    resumed = demo(workdir, "--verwaltung", "--loesung", "--epochen", "10")
    assert f"Setze das Training nach Schritt {int(match['said'])} fort" in resumed.stdout, resumed.stdout
    assert "Das Training ist abgeschlossen: 10 Epochen." in resumed.stdout, resumed.stderr
    expected = torch.load(tmp_path / "durchgehend" / "checkpoints" / "schritt-000230.pt", weights_only=True)
    actual = torch.load(workdir / "checkpoints" / "schritt-000230.pt", weights_only=True)
    weights = expected["state"]["model_state_dict"]
    assert all(torch.equal(weights[name], actual["state"]["model_state_dict"][name]) for name in weights)


def test_managed_demo_with_the_untouched_stub_explains_what_to_do(tmp_path):
    result = demo(tmp_path, "--verwaltung")
    assert result.returncode == 1
    assert "noch nicht implementiert" in result.stderr
    assert "make train VERWALTUNG=1 LOESUNG=1" in result.stderr
