"""The launcher of the distributed grading runs (lesson 5) ends a run that hangs without a collective.

A hang inside a collective ends after the process group's timeout (tests/test_grader.py); ranks that
wait elsewhere (both asleep) are ended by the run's own time limit, and no process is left over.
"""

import time
from pathlib import Path

from grader import probes

SLEEPING = '''
import time


class TrainingState:
    def __init__(self, model, optimizer, scheduler):
        time.sleep(100_000)
'''


def status(pid):
    try:
        return Path(f"/proc/{pid}/status").read_text()
    except OSError:  # already gone
        return "zombie"


def test_a_run_whose_ranks_sleep_ends_at_its_time_limit(tmp_path):
    submission = tmp_path / "verteilt.py"
    submission.write_text(SLEEPING, encoding="utf-8")
    folder = tmp_path / "lauf"
    folder.mkdir()
    started = time.monotonic()
    run = probes.launch("training", folder, submission, timeout=8)
    assert time.monotonic() - started < 60
    assert run["timeout"] is True
    assert all(rank["where"] == "TrainingState(model, optimizer, scheduler)" for rank in run["ranks"].values()), run
    exits = [rank["exit"] for rank in run["ranks"].values()]
    assert -9 in exits and 0 not in exits, run
    left = [pid for pid in probes.descendants() if "zombie" not in status(pid)]
    assert not left, "processes left over"
