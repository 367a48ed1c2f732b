"""Benchmark: grade 50 submissions with ``grade_all`` and compare with one ``make grade``.

Run: ``.venv/bin/python -m benchmarks.grade_all`` (takes a few minutes on 2 cores).
The submissions are copies of the reference and of the wrong-implementation catalogue.
"""

import itertools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.batch import grade_all, summary
from tests.catalogue import CATALOGUE, REPO, build_submission

COUNT = 50


def make_submissions(root):
    variants = [None, *sorted((CATALOGUE / "wrong").glob("*.py"))]
    for index, variant in zip(range(COUNT), itertools.cycle(variants)):
        folder = root / f"student{index:02d}"
        if variant is None:
            folder.mkdir(parents=True)
            (folder / "checkpoints.py").write_text((REPO / "solutions" / "checkpoints.py").read_text())
        else:
            build_submission(variant, folder)


def time_single_grade():
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "grader", "solutions"], cwd=REPO, capture_output=True, check=True)
    return time.perf_counter() - started


def main():
    single = min(time_single_grade() for _ in range(3))
    with tempfile.TemporaryDirectory() as root:
        root = Path(root)
        make_submissions(root / "abgaben")
        started = time.perf_counter()
        gradings = grade_all(root / "abgaben", root / "bewertung", progress=False)
        batch = time.perf_counter() - started
    print(summary(gradings))
    print(f"Kerne: {os.cpu_count()}")
    print(f"Einzelne Bewertung (python -m grader, bestes von 3): {single:.1f} s")
    print(f"{COUNT} Abgaben mit grade_all: {batch:.1f} s, also {batch / COUNT:.2f} s je Abgabe "
          f"({batch / COUNT / single:.2f} × eine Einzelbewertung)")


if __name__ == "__main__":
    main()
