"""The training demo trains, saves after every epoch and resumes from the saved epoch."""

import os
import subprocess
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent


def demo(workdir, *arguments):
    return subprocess.run(
        [sys.executable, "-m", "course.training", *arguments],
        cwd=workdir, env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True, text=True, timeout=300,
    )


def test_demo_with_reference_resumes_from_saved_epoch(tmp_path):
    first = demo(tmp_path, "--loesung", "--epochen", "2")
    assert first.returncode == 0, first.stderr
    assert "Kein Checkpoint" in first.stdout
    assert [line.split(":")[0] for line in first.stdout.splitlines() if line.startswith("Epoche")] == [
        "Epoche 1/2", "Epoche 2/2"
    ]
    assert torch.load(tmp_path / "checkpoint.pth", weights_only=True)["epoch"] == 2

    second = demo(tmp_path, "--loesung", "--epochen", "3")
    assert second.returncode == 0, second.stderr
    assert "Setze das Training nach 2 abgeschlossenen Epochen fort." in second.stdout
    assert [line.split(":")[0] for line in second.stdout.splitlines() if line.startswith("Epoche")] == ["Epoche 3/3"]
    assert torch.load(tmp_path / "checkpoint.pth", weights_only=True)["epoch"] == 3

    third = demo(tmp_path, "--loesung", "--epochen", "3")
    assert "Das Training ist bereits abgeschlossen: 3 von 3 Epochen." in third.stdout


def test_demo_reports_progress_and_learns(tmp_path):
    result = demo(tmp_path, "--loesung", "--epochen", "3")
    last = [line for line in result.stdout.splitlines() if line.startswith("Epoche 3/3")][0]
    accuracy = float(last.split("Genauigkeit ")[1].split(" %")[0].replace(",", "."))
    assert accuracy > 80, last
    assert "Verlust" in last and last.endswith(" s")


def test_demo_with_untouched_stubs_explains_what_to_do(tmp_path):
    result = demo(tmp_path)
    assert result.returncode == 1
    assert "noch nicht implementiert" in result.stderr
    assert "make train LOESUNG=1" in result.stderr
