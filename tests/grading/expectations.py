"""What the reference does, computed on the trusted side: the values every grading compares with.

Computed once per process; a lane of ``make grade-all`` reuses them for every submission. In a
lane they are computed in a background thread while the sandboxed worker warms up – nothing else
in that process uses the global generators then. One thread computes all of them in a fixed
order, because each reseeds the generators.
"""

import copy
import importlib.util
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

from course import preemption
from course.exact_training import build_training, train_exactly
from course.foreign_checkpoints import gpu_checkpoint_bytes
from grader import scenarios
from grader.scenarios import CreatesMarker
from tests.grading.support import REFERENCE_FOLDER, REPO, snapshot, torch_bytes


@dataclass
class Expectations:
    trained: tuple  # model, optimizer and copies of their state after a few steps
    reference_file: bytes  # the reference's lesson-1 checkpoint of ``trained``
    state_in_progress: dict = None  # lesson 2: the state at the moment save_training_state is called
    reference_run: tuple = None  # lesson 2: the run without interruption (see reference_run)
    robust: dict = None  # lesson 3: the files safe_load gets and the states it must leave (see robust_files)
    distributed: list = None  # lesson 5: each rank's records of the uninterrupted run (see distributed_basis)


def import_reference(name):
    spec = importlib.util.spec_from_file_location(f"referenz_{name}", REFERENCE_FOLDER / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[spec.name] = module
    return module


def reference_checkpoint(reference, model, optimizer):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "stand.pth"
        reference.save_checkpoint(model, optimizer, scenarios.SAVED_EPOCH, filename=str(path))
        return path.read_bytes()


def state_in_progress():
    model, optimizer, scheduler, progress = scenarios.training_in_progress()
    return {"model_state_dict": snapshot(model), "optimizer_state_dict": snapshot(optimizer),
            "scheduler_state_dict": snapshot(scheduler), "progress": copy.deepcopy(progress),
            "rng": (torch.get_rng_state(), np.random.get_state(), random.getstate())}


def reference_run(state_reference):
    """The reference run without interruption, with the reference's state at both points of interruption.

    Returns the run (weights, learning rates, losses, next draws at STOP_STEP), the checkpoints to
    resume from (state parts and RNG states as plain values) and a checkpoint file of the reference.
    """
    points, draws, objects = {}, {}, {}

    def remember(epochs):
        built = build_training(epochs)
        objects.update(zip(("model", "optimizer", "scheduler"), built[:3]))
        return built

    def should_stop(progress):
        point = ("epochenende" if progress["batch"] == 0 and progress["epoch"] == 1 else
                 "epochenmitte" if progress["global_step"] == scenarios.STOP_STEP else None)
        if point:
            if point == "epochenmitte":
                draws.update(scenarios.peek_draws())
            points[point] = {
                "state": {"model_state_dict": snapshot(objects["model"]),
                          "optimizer_state_dict": snapshot(objects["optimizer"]),
                          "scheduler_state_dict": snapshot(objects["scheduler"]), "progress": copy.deepcopy(progress)},
                "rng": scenarios.rng_snapshot(), "steps": progress["global_step"],
            }
        return False

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "zustand.pth"
        model, history = train_exactly(state_reference.save_training_state, state_reference.resume_training_state,
                                       scenarios.EPOCHS, str(path), should_stop, build=remember)
        run = {"weights": snapshot(model), "learning_rates": history.learning_rates, "losses": history.losses,
               "draws": draws}
        return run, points, path.read_bytes()


def robust_files():
    """Lesson 3: each file ``safe_load`` gets, and the states of model and optimizer it must leave."""
    import argparse

    from torch import nn

    def with_model_state(state, kind="classifier"):
        return {**scenarios.robust_checkpoint(kind), "model_state_dict": state}

    model, optimizer = scenarios.robust_pair()
    plain = scenarios.robust_checkpoint()
    partly = {("module." + key if index % 2 else key): value
              for index, (key, value) in enumerate(plain["model_state_dict"].items())}
    files = {
        "passend": torch_bytes(plain),
        "dataparallel": torch_bytes(with_model_state(nn.DataParallel(model).state_dict())),
        # backend="eager": the same wrapper and keys, without importing the compiler (inductor)
        "compiled": torch_bytes(with_model_state(torch.compile(model, backend="eager").state_dict())),
        "holder": torch_bytes(scenarios.robust_checkpoint("holder")),
        "gpu": gpu_checkpoint_bytes(plain),
        "andere_formen": torch_bytes(with_model_state(scenarios.robust_pair(classes=scenarios.OTHER_CLASSES)[0].state_dict())),
        "andere_namen": torch_bytes(with_model_state(scenarios.robust_pair(head_name="kopf")[0].state_dict())),
        "ohne_optimierer": torch_bytes({key: value for key, value in plain.items() if key != "optimizer_state_dict"}),
        "teilweise_praefix": torch_bytes(with_model_state(partly)),
        "unsicherer_typ": torch_bytes({**plain, "args": argparse.Namespace(lr=scenarios.TRAINED_LR)}),
        "andere_gruppen": torch_bytes({**plain, "optimizer_state_dict": scenarios.robust_pair(groups=2)[1].state_dict()}),
        "optimierer_formen": torch_bytes({**plain, "optimizer_state_dict": scenarios.robust_pair(
            classes=scenarios.OTHER_CLASSES)[1].state_dict()}),
        "abgeschnitten": torch_bytes(plain)[:len(torch_bytes(plain)) // 2],
        "manipuliert": torch_bytes({**plain, "model_state_dict": CreatesMarker()}),
    }
    fresh = {kind: tuple(snapshot(part) for part in scenarios.fresh_robust_pair(kind)) for kind in ("classifier", "holder")}
    trained = {kind: tuple(snapshot(part) for part in scenarios.robust_pair(kind)) for kind in ("classifier", "holder")}
    rest = {key: value for key, value in plain.items() if key not in ("model_state_dict", "optimizer_state_dict")}
    uninterrupted = preemption.train(lambda obj, path: None, None, stop=SimpleNamespace(signals=0)).state_dict()
    return {"files": files, "fresh": fresh, "trained": trained, "rest": rest, "uninterrupted": uninterrupted,
            "checkpoint": plain, "old_file": torch_bytes({"epoch": 3, "alt": torch.arange(5)})}


def start_distributed_basis(folder):
    """Lesson 5: the uninterrupted run under torchrun, without any submission (grader.distributed basis)."""
    environment = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
               "-m", "grader.distributed", "basis", str(folder)]
    return subprocess.Popen(command, cwd=REPO, env=environment, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)


def distributed_basis(process, folder):
    output = process.communicate(timeout=600)[0].decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"Der Vergleichslauf der Lektion 5 (torchrun) scheiterte:\n{output[-3000:]}")
    return [torch.load(Path(folder) / f"rang-{rank}-basis.pt", weights_only=True) for rank in range(2)]


def compute(modules):
    basis = None
    if "verteilt" in modules:  # a process of its own: it runs while the rest is computed here
        basis_folder = tempfile.mkdtemp(prefix="basis-")
        basis = start_distributed_basis(basis_folder)
    model, optimizer = scenarios.trained_pair()
    expected = Expectations((model, optimizer, snapshot(model), snapshot(optimizer)),
                            reference_checkpoint(import_reference("checkpoints"), model, optimizer))
    if "training_state" in modules:
        expected.state_in_progress = state_in_progress()
        expected.reference_run = reference_run(import_reference("training_state"))
    if "robust" in modules:
        expected.robust = robust_files()
    if basis is not None:
        try:
            expected.distributed = distributed_basis(basis, basis_folder)
        finally:
            shutil.rmtree(basis_folder, ignore_errors=True)
    return expected


_RESULT = {}
_DONE = threading.Event()


_MODULES = set()
_BACKGROUND = []


def work():
    try:
        _RESULT["value"] = compute(_MODULES)
    except BaseException as error:  # handed to the first test that needs the values
        _RESULT["error"] = error
    finally:
        _DONE.set()


def start(modules, background):
    """Compute for ``modules`` from now on in a background thread, or else on the first :func:`get`."""
    if _MODULES:
        return
    _MODULES.update(modules, {"checkpoints"})
    if background:
        _BACKGROUND.append(threading.Thread(target=work, daemon=True))
        _BACKGROUND[0].start()


def get():
    if not _BACKGROUND and not _DONE.is_set():
        work()
    _DONE.wait()
    if "error" in _RESULT:
        raise _RESULT["error"]
    return _RESULT["value"]
