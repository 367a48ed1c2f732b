"""A lane of the grader: one trusted process that grades submissions one after another.

    python -m grader.lane      (requests as JSON lines on stdin)

It runs the grading tests with ``pytest.main`` for each request, in this process: torch, the
reference values and the sandboxed worker (``tests/grading/conftest.py``) are set up once and
serve every submission of the lane. A request names the submission's folder, the lessons, the
results file and the CPU limit; the answer is one JSON line ``{"done": exit status of pytest}``.
"""

import json
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORKER_MODULES_VARIABLE = "GRADER_WORKER_MODULES"  # whose probes the lane's worker warms up
CPU_LIMIT_VARIABLE = "GRADER_CPU_LIMIT"  # CPU seconds per probe, set per submission


def grade_one(request):
    import pytest

    from grader import pytest_plugin
    from grader.worker import SUBMISSION_VARIABLE

    os.environ.update({
        SUBMISSION_VARIABLE: request["abgabe"],
        pytest_plugin.MODULES_VARIABLE: request["modules"],
        pytest_plugin.RESULTS_VARIABLE: request["results"],
        CPU_LIMIT_VARIABLE: str(request["cpu"]),
    })
    # No log capture: pytest's walks all loggers at every test phase, while the thread computing the
    # reference values may import modules that create loggers ("dictionary changed size").
    return pytest.main(
        [str(REPO / "tests" / "grading"), "-c", str(REPO / "pytest.ini"), "--rootdir", str(REPO),
         "--basetemp", request["basetemp"], "-p", "no:warnings", "-p", "no:logging", "-q", "--no-header",
         "-o", "timeout=0"],
        plugins=[pytest_plugin],
    )


def main():
    from grader import client

    # The worker's start-up (torch, warm-up) is the longest part of a grading: begin it first.
    client.prestart(tempfile.mkdtemp(prefix="sandkasten-"), os.environ[WORKER_MODULES_VARIABLE].split(","))
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # pytest's own output must not mix with the answers
    for line in sys.stdin:
        status = grade_one(json.loads(line))
        answers.write(json.dumps({"done": int(status)}) + "\n")
        answers.flush()


if __name__ == "__main__":
    main()
