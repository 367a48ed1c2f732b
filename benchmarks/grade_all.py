"""Benchmark: grade 50 submissions with ``grade_all`` and compare with one ``make grade``.

Run: ``.venv/bin/python -m benchmarks.grade_all`` (takes about ten minutes on 2 cores).
Every submission holds all modules: copies of the reference and of the wrong-implementation
catalogue of one lesson, completed by the reference modules of the other lessons.
"""

import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.batch import grade_all, summary
from tests.catalogue import (
    CATALOGUE,
    MANAGER_REFERENCE,
    REFERENCE,
    REPO,
    ROBUST_REFERENCE,
    STATE_REFERENCE,
    build_submission,
)

COUNT = 50


BASES = {"wrong": REFERENCE, "wrong_state": STATE_REFERENCE, "wrong_robust": ROBUST_REFERENCE,
         "wrong_manager": MANAGER_REFERENCE}


def make_submissions(root):
    variants = [None, *(path for folder in BASES for path in sorted((CATALOGUE / folder).glob("*.py")))]
    for index, variant in zip(range(COUNT), itertools.cycle(variants)):
        folder = root / f"student{index:02d}"
        folder.mkdir(parents=True)
        for module in BASES.values():
            shutil.copy(module, folder / module.name)
        if variant is not None:
            build_submission(variant, folder, BASES[variant.parent.name])


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
