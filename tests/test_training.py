"""The training demo trains, saves after every epoch and resumes from the saved epoch."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parent.parent


def demo(workdir, *arguments):
    return subprocess.run(
        [sys.executable, "-m", "course", *arguments],
        cwd=workdir, env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True, text=True, timeout=300,
    )


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
    process = subprocess.Popen(
        [sys.executable, "-m", "course", "--loesung", "--epochen", epochs],
        cwd=interrupted_dir, env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert process.stdout.readline().startswith("Kein Checkpoint")
    assert process.stdout.readline().startswith("Epoche 1/10")
    process.send_signal(signal.SIGTERM)
    output, errors = process.communicate(timeout=120)
    assert process.returncode == 0, errors
    assert "Unterbrochen (SIGTERM)" in output
    saved = torch.load(interrupted_dir / "trainingszustand.pth", weights_only=True)["progress"]
    assert 0 < saved["global_step"] < 10 * 23

    resumed = demo(interrupted_dir, "--loesung", "--epochen", epochs)
    assert "Das Training ist abgeschlossen: 10 Epochen." in resumed.stdout, resumed.stderr
    expected = final_weights(tmp_path / "durchgehend" / "trainingszustand.pth")
    actual = final_weights(interrupted_dir / "trainingszustand.pth")
    assert expected.keys() == actual.keys()
    assert all(torch.equal(expected[key], actual[key]) for key in expected)
