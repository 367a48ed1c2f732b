"""Runs the exact-resume training in a process of its own, for the grading tests of lesson 2.

    python -m tests.grading.resume_harness FUNCTIONS CHECKPOINT RESULT [--stop-step N | --stop-epoch E] [--probe]

FUNCTIONS is ``abgabe`` (the submission's training_state.py) or ``referenz``. The result file holds
the final weights, the learning rate and loss of every step this process trained, and — with
``--probe`` — the next random draws of torch, NumPy and Python at the stop (then nothing is saved).
With ``--resume-probe`` the process only resumes and records the next random draws.
"""

import argparse
import random

import numpy as np
import torch

from course.exact_training import build_training, train_exactly
from tests.grading.support import REFERENCE_FOLDER, SUBMISSION_FOLDER, import_module_from

EPOCHS = 3


def next_draws():
    return {"torch": torch.rand(4), "numpy": np.random.rand(4).tolist(), "python": [random.random() for _ in range(4)]}


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("functions", choices=["abgabe", "referenz"])
    parser.add_argument("checkpoint")
    parser.add_argument("result")
    parser.add_argument("--stop-step", type=int)
    parser.add_argument("--stop-epoch", type=int)
    parser.add_argument("--probe", action="store_true")
    parser.add_argument("--resume-probe", action="store_true")
    args = parser.parse_args(argv)
    folder = SUBMISSION_FOLDER if args.functions == "abgabe" else REFERENCE_FOLDER
    module = import_module_from(folder / "training_state.py", f"{args.functions}_training_state")

    if args.resume_probe:
        model, optimizer, scheduler, loader = build_training(EPOCHS)
        module.resume_training_state(args.checkpoint, model, optimizer, scheduler, loader)
        torch.save({"draws": next_draws()}, args.result)
        return

    draws = {}

    def should_stop(progress):
        stop = progress["global_step"] == args.stop_step or (
            progress["batch"] == 0 and progress["epoch"] == args.stop_epoch
        )
        if stop and args.probe:
            draws.update(next_draws())
        return stop

    save = (lambda *arguments: None) if args.probe else module.save_training_state
    model, history = train_exactly(save, module.resume_training_state, EPOCHS, args.checkpoint, should_stop)
    torch.save(
        {
            "weights": model.state_dict(),
            "learning_rates": history.learning_rates,
            "losses": history.losses,
            "draws": draws,
        },
        args.result,
    )


if __name__ == "__main__":
    main()
