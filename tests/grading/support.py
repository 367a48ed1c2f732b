"""Helpers shared by the grading tests: test models, comparisons and calling the submission."""

import contextlib
import copy
import importlib.util
import logging
import os
import sys
import traceback
from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn

REPO = Path(__file__).resolve().parents[2]
# The folder of the submission's modules; run directly (make test), the tests grade solutions/.
SUBMISSION_VARIABLE = "GRADER_ABGABE"
# The grader hands over a private copy of the reference solutions.
REFERENCE_VARIABLE = "GRADER_REFERENCE"
SUBMISSION_FOLDER = Path(os.environ.get(SUBMISSION_VARIABLE, REPO / "solutions"))
REFERENCE_FOLDER = Path(os.environ.get(REFERENCE_VARIABLE, REPO / "solutions"))
SAVED_EPOCH = 7
TRAINED_LR = 0.01
FRESH_LR = 0.5


class GradingFailure(AssertionError):
    """A requirement is not met; the message is the German feedback for the student."""


class SubmissionImportError(Exception):
    """The submission could not be imported; the message says why, in German."""


class SubmissionAborted(Exception):
    """The submission raised KeyboardInterrupt or SystemExit; graded as a failure of that test."""


@contextlib.contextmanager
def exits_contained():
    """Turn KeyboardInterrupt and SystemExit from the submission into an ordinary failure."""
    try:
        yield
    except (KeyboardInterrupt, SystemExit) as error:
        raise SubmissionAborted(type(error).__name__) from None


def check(condition, message):
    if not condition:
        raise GradingFailure(message)


def import_module_from(path, name):
    """Import a ``checkpoints.py`` by path, with its own folder importable for helper modules."""
    path = Path(path).resolve()
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    except (Exception, KeyboardInterrupt, SystemExit) as error:  # raised while importing the student's file
        frame = last_frame_in(error.__traceback__, path.parent)
        line = f" (Zeile {frame.lineno})" if frame else ""
        raise SubmissionImportError(
            f"{path.name} lässt sich nicht importieren{line}: {type(error).__name__}: {error}"
        ) from None
    finally:
        sys.path.remove(str(path.parent))
    return module


def last_frame_in(traceback_, folder):
    """The last frame of a traceback that lies in a file of ``folder`` (the submission), or None."""
    folder = Path(folder).resolve()
    frames = [frame for frame in traceback.extract_tb(traceback_) if Path(frame.filename).resolve().parent == folder]
    return frames[-1] if frames else None


def make_model(seed, hidden=8, named=False):
    """A small model with BatchNorm, so that buffers are part of its ``state_dict``."""
    torch.manual_seed(seed)
    layers = [nn.Linear(4, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, 3)]
    if named:
        return nn.Sequential(OrderedDict(zip(["eingang", "norm", "aktivierung", "ausgang"], layers)))
    return nn.Sequential(*layers)


def training_step(model, optimizer, seed):
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(16, 4, generator=generator)
    targets = torch.randint(0, 3, (16,), generator=generator)
    model.train()
    optimizer.zero_grad()
    nn.functional.cross_entropy(model(inputs), targets).backward()
    optimizer.step()


def trained_pair(seed=0, hidden=8, named=False):
    """Model and Adam optimizer after a few steps: non-trivial parameters, buffers and state."""
    model = make_model(seed, hidden, named)
    optimizer = torch.optim.Adam(model.parameters(), lr=TRAINED_LR)
    for step in range(3):
        training_step(model, optimizer, seed=100 + step)
    return model, optimizer


def fresh_pair(seed=1):
    """Another model (other seed) and an optimizer with another lr and no state."""
    model = make_model(seed)
    return model, torch.optim.Adam(model.parameters(), lr=FRESH_LR)


def snapshot(obj):
    """An independent deep copy of a ``state_dict`` (loading may share tensors with its input)."""
    return copy.deepcopy(obj.state_dict())


def differences(expected, actual, path="state_dict"):
    """Describe where two nested structures of tensors and plain values differ (empty: equal)."""
    if isinstance(expected, torch.Tensor):
        if not isinstance(actual, torch.Tensor):
            return [f"{path}: Tensor erwartet, {type(actual).__name__} gefunden"]
        if expected.shape != actual.shape or expected.dtype != actual.dtype or not torch.equal(expected, actual):
            return [f"{path}: Werte weichen ab"]
        return []
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: Dictionary erwartet, {type(actual).__name__} gefunden"]
        missing = [key for key in expected if key not in actual]
        if missing:
            return [f"{path}: es fehlen die Schlüssel {', '.join(map(repr, missing[:4]))}"]
        return [diff for key in expected for diff in differences(expected[key], actual[key], f"{path}[{key!r}]")]
    if isinstance(expected, (list, tuple)):
        if not isinstance(actual, (list, tuple)) or len(actual) != len(expected):
            return [f"{path}: Liste der Länge {len(expected)} erwartet"]
        return [diff for index, (e, a) in enumerate(zip(expected, actual)) for diff in differences(e, a, f"{path}[{index}]")]
    if type(expected) is not type(actual) or expected != actual:
        return [f"{path}: {expected!r} erwartet, {actual!r} gefunden"]
    return []


def summary(diffs):
    shown = "; ".join(diffs[:3])
    return shown + (f" (und {len(diffs) - 3} weitere Abweichungen)" if len(diffs) > 3 else "")


class MessageCapture:
    """Collects what the submission reports: stdout, stderr and ``logging`` records."""

    def __init__(self, capfd, caplog):
        self._capfd = capfd
        self._caplog = caplog
        caplog.set_level(logging.DEBUG)

    def text(self):
        out, err = self._capfd.readouterr()
        return (out + err + self._caplog.text).strip()


def call_without_escape(function, situation, fresh_start, *args, **kwargs):
    """Call a function of the submission; an exception that escapes it fails the requirement.

    ``fresh_start`` names the expected return value, e.g. "die Rückgabe 0".
    """
    try:
        return function(*args, **kwargs)
    except NotImplementedError:
        raise
    except Exception as error:
        raise GradingFailure(
            f"Bei {situation} hat {function.__name__} die Ausnahme {type(error).__name__}: {error} nicht "
            f"abgefangen. Erwartet: eine Meldung und {fresh_start}, damit das Training von vorn beginnt."
        ) from None


def describe_return(value):
    return f"{value!r} (Typ {type(value).__name__})"
