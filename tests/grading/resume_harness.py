"""Runs the exact-resume training in a process of its own, for the grading tests of lesson 2.

    python -m tests.grading.resume_harness MODE CHECKPOINT RESULT

* ``baseline``: the reference functions without interruption; records the next random draws at
  ``STOP_STEP`` without disturbing the run.
* ``first``: the submission's functions until ``STOP_STEP`` (mid-epoch), where it saves and stops.
  The checkpoint saved at the end of the first epoch is kept as ``CHECKPOINT.epochenende``.
* ``resume``: the submission's functions resume from CHECKPOINT and train to the end; the next
  random draws right after resuming are recorded without disturbing the run.

The result file holds the final weights, the learning rate and loss of every step this process
trained, and the recorded draws.
"""

import argparse
import random
import shutil

import numpy as np
import torch

from course.exact_training import train_exactly
from tests.grading.support import REFERENCE_FOLDER, SUBMISSION_FOLDER, import_module_from

EPOCHS = 3
STEPS_PER_EPOCH = 23
STOP_STEP = STEPS_PER_EPOCH + 7  # in the middle of the second epoch
END_OF_EPOCH_SUFFIX = ".epochenende"


def peek_draws():
    """The next random numbers of torch, NumPy and Python, with every generator left as it was."""
    states = torch.get_rng_state(), np.random.get_state(), random.getstate()
    draws = {"torch": torch.rand(4), "numpy": np.random.rand(4).tolist(), "python": [random.random() for _ in range(4)]}
    torch.set_rng_state(states[0])
    np.random.set_state(states[1])
    random.setstate(states[2])
    return draws


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["baseline", "first", "resume"])
    parser.add_argument("checkpoint")
    parser.add_argument("result")
    args = parser.parse_args(argv)
    folder = REFERENCE_FOLDER if args.mode == "baseline" else SUBMISSION_FOLDER
    module = import_module_from(folder / "training_state.py", f"{args.mode}_training_state")
    draws = {}
    save, resume, should_stop = module.save_training_state, module.resume_training_state, lambda progress: False

    if args.mode == "baseline":
        def should_stop(progress):
            if progress["global_step"] == STOP_STEP:
                draws.update(peek_draws())
            return False

    elif args.mode == "first":
        def save(filename, model, optimizer, scheduler, progress):
            module.save_training_state(filename, model, optimizer, scheduler, progress)
            if progress["epoch"] == 1 and progress["batch"] == 0:
                shutil.copy(filename, filename + END_OF_EPOCH_SUFFIX)

        def should_stop(progress):
            return progress["global_step"] == STOP_STEP

    else:
        def resume(*arguments):
            resumed = module.resume_training_state(*arguments)
            draws.update(peek_draws())
            return resumed

    model, history = train_exactly(save, resume, EPOCHS, args.checkpoint, should_stop)
    torch.save(
        {"weights": model.state_dict(), "learning_rates": history.learning_rates, "losses": history.losses, "draws": draws},
        args.result,
    )


if __name__ == "__main__":
    main()
