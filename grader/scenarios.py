"""The objects every grading scenario is built from, identical on both sides of the sandbox.

The sandboxed child builds them to call the submission; the trusted side builds the same objects
independently to know what the result must be. Everything here is deterministic (one thread).
"""

import io
import os
import re
from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn

SAVED_EPOCH = 7
TRAINED_LR = 0.01
FRESH_LR = 0.5
STEP_SEED = 999


def make_model(seed, hidden=8, named=False, inputs=4):
    """A small model with BatchNorm, so that buffers are part of its ``state_dict``."""
    torch.manual_seed(seed)
    layers = [nn.Linear(inputs, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, 3)]
    if named:
        return nn.Sequential(OrderedDict(zip(["eingang", "norm", "aktivierung", "ausgang"], layers)))
    return nn.Sequential(*layers)


def training_step(model, optimizer, seed=STEP_SEED):
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(16, model[0].in_features, generator=generator)
    targets = torch.randint(0, 3, (16,), generator=generator)
    model.train()
    optimizer.zero_grad()
    nn.functional.cross_entropy(model(inputs), targets).backward()
    optimizer.step()


def trained_pair(seed=0, hidden=8, named=False, inputs=4):
    """Model and Adam optimizer after a few steps: non-trivial parameters, buffers and state."""
    model = make_model(seed, hidden, named, inputs)
    optimizer = torch.optim.Adam(model.parameters(), lr=TRAINED_LR)
    for step in range(3):
        training_step(model, optimizer, seed=100 + step)
    return model, optimizer


def fresh_pair(seed=1):
    """Another model (other seed) and an optimizer with another lr and no state."""
    model = make_model(seed)
    return model, torch.optim.Adam(model.parameters(), lr=FRESH_LR)


# Lesson 2: the exact-resume training of course.exact_training, interrupted at fixed points.
EPOCHS = 3
STEPS_PER_EPOCH = 23
STOP_STEP = STEPS_PER_EPOCH + 7  # in the middle of the second epoch


def a_few_steps(model, optimizer, scheduler, loader, steps=5):
    model.train()
    for _, (images, labels) in zip(range(steps), loader):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()
        scheduler.step()


def training_in_progress():
    """A training after a few steps, its progress, and generators moved past the loader's state.

    Returns ``(model, optimizer, scheduler, progress)``; the generators are left as they are at
    the moment ``save_training_state`` is called.
    """
    import numpy as np
    import random

    from course.exact_training import build_training, fresh_progress

    model, optimizer, scheduler, loader = build_training(epochs=2)
    a_few_steps(model, optimizer, scheduler, loader)
    progress = {**fresh_progress(), "batch": 5, "global_step": 5, "best_loss": 1.25,
                "loader_rng_state": torch.get_rng_state()}
    torch.rand(10), np.random.rand(10), random.random()  # the current states now differ from the loader's
    return model, optimizer, scheduler, progress


def rng_snapshot():
    """The states of torch, NumPy and Python as plain values (tensors, lists, numbers)."""
    import numpy as np
    import random

    _, keys, position, has_gauss, cached = np.random.get_state()
    version, state, gauss = random.getstate()
    return {"torch": torch.get_rng_state(), "numpy": [keys.tolist(), int(position), int(has_gauss), float(cached)],
            "python": [version, list(state), gauss]}


def set_rng_snapshot(snapshot):
    import numpy as np
    import random

    keys, position, has_gauss, cached = snapshot["numpy"]
    np.random.set_state(("MT19937", np.array(keys, dtype=np.uint32), position, has_gauss, cached))
    version, state, gauss = snapshot["python"]
    random.setstate((version, tuple(state), gauss))
    torch.set_rng_state(snapshot["torch"])


def peek_draws():
    """The next random numbers of torch, NumPy and Python, with every generator left as it was."""
    import numpy as np
    import random

    snapshot = rng_snapshot()
    draws = {"torch": torch.rand(4), "numpy": np.random.rand(4).tolist(), "python": [random.random() for _ in range(4)]}
    set_rng_snapshot(snapshot)
    return draws


# Lesson 3: models whose key names invite the prefix traps, and the objects atomic_save writes.
CLASSES = 5
OTHER_CLASSES = 7
HIDDEN = 12
FEATURES = 6


class Classifier(nn.Module):
    """Keys ``submodule.…`` and ``head.…``: stripping ``"module."`` anywhere in a key mangles them."""

    def __init__(self, classes=CLASSES, head_name="head"):
        super().__init__()
        self.submodule = nn.Sequential(nn.Linear(FEATURES, HIDDEN), nn.BatchNorm1d(HIDDEN), nn.ReLU())
        setattr(self, head_name, nn.Linear(HIDDEN, classes))
        self.head_name = head_name

    def forward(self, inputs):
        return getattr(self, self.head_name)(self.submodule(inputs))


class Holder(nn.Module):
    """A model whose only submodule is really called ``module``: every key begins with ``module.``."""

    def __init__(self):
        super().__init__()
        self.module = Classifier()

    def forward(self, inputs):
        return self.module(inputs)


def robust_step(model, optimizer, seed):
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(16, FEATURES, generator=generator)
    targets = torch.randint(0, CLASSES, (16,), generator=generator)
    model.train()
    optimizer.zero_grad()
    nn.functional.cross_entropy(model(inputs)[:, :CLASSES], targets).backward()
    optimizer.step()


def robust_pair(kind="classifier", seed=0, lr=TRAINED_LR, steps=3, classes=CLASSES, head_name="head", groups=1):
    """Model and AdamW after ``steps`` steps (state in the optimizer). ``kind``: classifier or holder."""
    torch.manual_seed(seed)
    model = Holder() if kind == "holder" else Classifier(classes, head_name)
    parameters = list(model.parameters())
    if groups == 2:  # e.g. weights with weight decay, biases without
        parameters = [{"params": parameters[::2]}, {"params": parameters[1::2], "weight_decay": 0.0}]
    optimizer = torch.optim.AdamW(parameters, lr=lr)
    for step in range(steps):
        robust_step(model, optimizer, seed=200 + seed * 10 + step)
    return model, optimizer


def fresh_robust_pair(kind="classifier"):
    """What ``safe_load`` loads into: another seed, another lr, one step of state of its own."""
    return robust_pair(kind, seed=1, lr=FRESH_LR, steps=1)


def robust_checkpoint(kind="classifier"):
    """A checkpoint as in lesson 1, with more than the two states: the rest ``safe_load`` returns."""
    model, optimizer = robust_pair(kind)
    return {"epoch": SAVED_EPOCH, "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(), "notiz": "nach Epoche 7", "val_loss": 0.25}


class FailsWhenPickled:
    """Stands after the tensors of a checkpoint: saving breaks off half-way."""

    def __reduce__(self):
        raise RuntimeError("Dieses Objekt lässt sich absichtlich nicht speichern.")


class AllowedByTheCaller:
    """A harmless type the caller of ``safe_load`` has allowed for itself: it must stay allowed."""


# Lesson 4: scripted sessions with a CheckpointManager, run alike on both sides of the sandbox.
MANAGER_FOLDER = "checkpoints"


def manager_state(step):
    return {"gewichte": torch.full((4,), float(step))}


def checkpoint_of_step(folder, step):
    """The file of ``step`` in ``folder``, whatever its zero padding (``schritt-<step>.pt``)."""
    for name in os.listdir(folder):
        found = re.fullmatch(r"schritt-(\d+)\.pt", name)
        if found and int(found.group(1)) == step:
            return folder / name
    return folder / f"schritt-{step:06d}.pt"


def damage(path, kind):
    """Make a checkpoint file unusable: cut in half, garbage, a foreign dictionary, or a file that runs
    code when unpickled."""
    data = path.read_bytes()
    if kind == "abgeschnitten":
        path.write_bytes(data[: len(data) // 2])
    elif kind == "muell":
        path.write_bytes(bytes(range(256)) * 16)
    elif kind == "fremd":  # loads, but is no checkpoint of the manager
        buffer = io.BytesIO()
        torch.save({"epoch": 3}, buffer)
        path.write_bytes(buffer.getvalue())
    else:
        buffer = io.BytesIO()
        torch.save({"step": 0, "metrics": {}, "state": CreatesMarker()}, buffer)
        path.write_bytes(buffer.getvalue())


MARKER = "schadcode_wurde_ausgefuehrt"


class CreatesMarker:
    """Unpickling this object calls os.mkdir in the working directory: code that runs while loading."""

    def __reduce__(self):
        return (os.mkdir, (MARKER,))


def as_plain_result(value):
    """Paths become file names, a (path, value) pair a list; everything else stays as it is."""
    import os

    if isinstance(value, os.PathLike):
        return os.fspath(value).replace("\\", "/").rsplit("/", 1)[-1]
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], (str, os.PathLike)):
        return [as_plain_result(value[0]) if isinstance(value[0], os.PathLike) else value[0].rsplit("/", 1)[-1],
                float(value[1]) if isinstance(value[1], (int, float)) else repr(value[1])]
    return value


def run_manager_script(manager_class, folder, script, call, printed):
    """Run ``script`` (a list of operations) against ``manager_class`` in ``folder``.

    ``call(function)`` runs one call and returns ``(outcome, value)``; ``printed()`` returns what was
    printed since it was last asked. Returns one record per operation.
    """
    folder = Path(folder)
    manager, records = None, []
    for operation, *parameters in script:
        record = {"op": operation}
        if operation == "neu":
            record["call"], created = call(lambda: manager_class(folder / MANAGER_FOLDER, **parameters[0]))
            manager = created if "returned" in record["call"] else manager
        elif operation == "speichern":
            step, metrics = parameters[0], parameters[1]
            state = manager_state(step)
            if len(parameters) > 2 and parameters[2] == "bricht_ab":
                state["zusatz"] = FailsWhenPickled()
            record["call"], _ = call(lambda: manager.save(step, state, dict(metrics)))
        elif operation == "neuester":
            record["call"], _ = call(lambda: manager.latest_valid())
        elif operation == "bester":
            record["call"], _ = call(lambda: manager.best())
        elif operation == "beschaedigen":
            damage(checkpoint_of_step(folder / MANAGER_FOLDER, parameters[0]), parameters[1])
        elif operation == "dateien":
            target = folder / MANAGER_FOLDER
            record["files"] = sorted(name for name in os.listdir(target) if not name.startswith(".")) if target.is_dir() else []
        record["printed"] = printed()
        records.append(record)
    return records
