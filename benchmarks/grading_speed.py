"""Benchmark: one grading measured against a bare ``import torch``, side by side in one run.

Run: ``.venv/bin/python -m benchmarks.grading_speed [--runs N]``. Each round times, one after
another, ``python -c "import torch"``, ``python -m grader solutions/checkpoints.py`` (lesson 1),
``python -m grader solutions/robust.py`` (lesson 3), ``python -m grader solutions/verteilt.py``
(lesson 5: two launches of two ranks each) and ``python -m grader solutions`` (all lessons); the
medians and their ratios are printed. Goals of the runner: lesson 1 at most 2×, all
lessons at most 3× a bare ``import torch``.
"""

import argparse
import statistics
import subprocess
import sys
import time

from tests.catalogue import REPO

COMMANDS = {
    "import torch": [sys.executable, "-c", "import torch"],
    "Lektion 1 (solutions/checkpoints.py)": [sys.executable, "-m", "grader", "solutions/checkpoints.py"],
    "Lektion 3 (solutions/robust.py)": [sys.executable, "-m", "grader", "solutions/robust.py"],
    "Lektion 5 (solutions/verteilt.py)": [sys.executable, "-m", "grader", "solutions/verteilt.py"],
    "alle Lektionen (solutions/)": [sys.executable, "-m", "grader", "solutions"],
}


def seconds(command):
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO, capture_output=True, check=True)
    return time.perf_counter() - started


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.grading_speed")
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args(argv).runs
    times = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name, command in COMMANDS.items():
            times[name].append(seconds(command))
    base = statistics.median(times["import torch"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name}: Median {median:.2f} s über {runs} Läufe ({median / base:.1f} × import torch)")


if __name__ == "__main__":
    main()
