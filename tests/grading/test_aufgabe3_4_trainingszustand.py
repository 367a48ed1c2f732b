"""Aufgaben 3 and 4: the complete training state and a bitwise exact resume in a fresh process."""

import os
import random
import subprocess
import sys

import numpy as np
import pytest
import torch

from course.exact_training import build_training, fresh_progress
from tests.grading.resume_harness import END_OF_EPOCH_SUFFIX, STEPS_PER_EPOCH, STOP_STEP
from tests.grading.support import (
    call_without_escape,
    check,
    describe_return,
    differences,
    exits_contained,
    snapshot,
    summary,
)

HARNESS_TIMEOUT = 60


def a_few_steps(model, optimizer, scheduler, loader, steps=5):
    model.train()
    for _, (images, labels) in zip(range(steps), loader):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()
        scheduler.step()


@pytest.fixture
def saved_state(state_submission, tmp_path):
    """A training after a few steps, saved by the submission; the RNG states moved past the loader's."""
    model, optimizer, scheduler, loader = build_training(epochs=2)
    a_few_steps(model, optimizer, scheduler, loader)
    progress = {**fresh_progress(), "batch": 5, "global_step": 5, "best_loss": 1.25,
                "loader_rng_state": torch.get_rng_state()}
    torch.rand(10), np.random.rand(10), random.random()  # the current states now differ from the loader's
    expected = {
        "model_state_dict": snapshot(model), "optimizer_state_dict": snapshot(optimizer),
        "scheduler_state_dict": snapshot(scheduler), "progress": {**progress},
        "rng": (torch.get_rng_state(), np.random.get_state(), random.getstate()),
    }
    path = tmp_path / "zustand.pth"
    with exits_contained():
        state_submission.save_training_state(str(path), model, optimizer, scheduler, progress)
    check(path.is_file(), "save_training_state hat keine Datei angelegt.")
    return path, expected


@pytest.mark.requirement("zustand_inhalt")
def test_state_dicts_and_progress_saved(saved_state):
    path, expected = saved_state
    checkpoint = torch.load(path, weights_only=False)  # the submission's own file; safety is graded apart
    check(isinstance(checkpoint, dict), f"Gespeichert wurde ein {type(checkpoint).__name__}, erwartet ein Dictionary.")
    for key in ("model_state_dict", "optimizer_state_dict", "scheduler_state_dict", "progress"):
        check(key in checkpoint, f"Im Checkpoint fehlt der Schlüssel {key!r}.")
        diffs = differences(expected[key], checkpoint[key], key)
        check(not diffs, f"Unter {key!r} steht nicht der Zustand beim Speichern: {summary(diffs)}.")


@pytest.mark.requirement("zustand_weights_only")
def test_loads_with_weights_only_and_empty_allowlist(saved_state):
    path, _ = saved_state
    torch.serialization.clear_safe_globals()
    try:
        with torch.serialization.safe_globals([]):
            torch.load(path, weights_only=True)
    except Exception as error:
        check(False, f"torch.load(..., weights_only=True) lehnt die Datei ab ({type(error).__name__}: "
                     f"{str(error).splitlines()[0][:160]}). Erwartet: nur Tensoren und einfache Werte, "
                     "z. B. den NumPy-Zustand als Liste von int statt als numpy.ndarray.")


def contains(structure, matches):
    """Whether some value inside nested dicts, lists and tuples satisfies ``matches``."""
    if matches(structure):
        return True
    if isinstance(structure, dict):
        return any(contains(value, matches) for value in structure.values())
    if isinstance(structure, (list, tuple)):
        return any(contains(value, matches) for value in structure)
    return False


def as_int_list(value):
    if isinstance(value, (torch.Tensor, np.ndarray)):
        return [int(v) for v in value.reshape(-1).tolist()]
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, (int, np.integer)) for v in value):
        return [int(v) for v in value]
    return None


@pytest.mark.requirement("zustand_zufall")
def test_rng_states_saved(saved_state):
    path, expected = saved_state
    checkpoint = torch.load(path, weights_only=False)
    torch_state, numpy_state, python_state = expected["rng"]
    rest = {key: value for key, value in checkpoint.items() if key != "progress"} if isinstance(checkpoint, dict) else {}
    missing = [
        name for name, found in (
            ("torch", contains(rest, lambda v: isinstance(v, torch.Tensor) and torch.equal(v, torch_state))),
            ("NumPy", contains(rest, lambda v: as_int_list(v) == numpy_state[1].tolist())),
            ("Python", contains(rest, lambda v: as_int_list(v) == list(python_state[1]))),
        ) if not found
    ]
    check(not missing, f"Im Checkpoint fehlt der aktuelle Zustand des Zufallsgenerators von {', '.join(missing)}. "
                       "Erwartet: torch.get_rng_state(), np.random.get_state() und random.getstate() beim Speichern.")


def harness(mode, checkpoint, result):
    """Run the training in a fresh process; the result file holds what it recorded."""
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    completed = subprocess.run(
        [sys.executable, "-m", "tests.grading.resume_harness", mode, str(checkpoint), str(result)],
        env=environment, capture_output=True, text=True, timeout=HARNESS_TIMEOUT,
    )
    if completed.returncode != 0:
        last = (completed.stderr.strip().splitlines() or ["(keine Ausgabe)"])[-1]
        if last.startswith("NotImplementedError"):
            raise NotImplementedError(last)
        check(False, f"Der Trainingsprozess mit Ihren Funktionen brach ab: {last[:300]}")
    return torch.load(result, weights_only=True)


@pytest.fixture(scope="session")
def uninterrupted(tmp_path_factory):
    """The reference run without interruption: what every resume must reproduce bitwise.

    The tests request it after the submission's own runs, so that a stub fails without it."""
    folder = tmp_path_factory.mktemp("ohne_unterbrechung")
    return harness("baseline", folder / "zustand.pth", folder / "ergebnis.pth")


@pytest.fixture(scope="session")
def first_part(tmp_path_factory):
    """The submission trains until the middle of the second epoch and saves; one checkpoint of the
    end of the first epoch is kept. Returns the folder and what the process recorded."""
    folder = tmp_path_factory.mktemp("unterbrochen")
    result = harness("first", folder / "zustand.pth", folder / "teil1.pth")
    check((folder / "zustand.pth").is_file(), "Beim Unterbrechen wurde kein Checkpoint gespeichert.")
    return folder, result


@pytest.fixture(scope="session")
def resumed_mid_epoch(first_part):
    folder, _ = first_part
    return harness("resume", folder / "zustand.pth", folder / "teil2.pth")


def expect_identical(uninterrupted, first, second, situation):
    learning_rates = first["learning_rates"] + second["learning_rates"]
    check(
        learning_rates == uninterrupted["learning_rates"],
        f"Nach dem Fortsetzen {situation} weicht der Verlauf der Lernrate ab (Schritte: {len(learning_rates)} "
        f"statt {len(uninterrupted['learning_rates'])}). Erwartet: der Scheduler-Zustand und die Position in den Daten.",
    )
    check(
        first["losses"] + second["losses"] == uninterrupted["losses"],
        f"Nach dem Fortsetzen {situation} weichen die Verluste vom Lauf ohne Unterbrechung ab. Erwartet: dieselben "
        "Batches in derselben Reihenfolge und derselbe Zufall (Dropout, Augmentierung).",
    )
    diffs = differences(uninterrupted["weights"], second["weights"], "model.state_dict()")
    check(not diffs, f"Nach dem Fortsetzen {situation} sind die Gewichte am Ende anders: {summary(diffs)}.")


@pytest.mark.timeout(4 * HARNESS_TIMEOUT)
@pytest.mark.requirement("fortsetzen_epochenende")
def test_resume_at_end_of_epoch_is_exact(first_part, uninterrupted):
    folder, first = first_part
    checkpoint = folder / ("zustand.pth" + END_OF_EPOCH_SUFFIX)
    check(checkpoint.is_file(), "Am Ende der ersten Epoche wurde kein Checkpoint gespeichert.")
    second = harness("resume", checkpoint, folder / "teil2_epochenende.pth")
    before = {key: first[key][:STEPS_PER_EPOCH] for key in ("learning_rates", "losses")}
    expect_identical(uninterrupted, before, second, "am Ende der ersten Epoche")


@pytest.mark.timeout(4 * HARNESS_TIMEOUT)
@pytest.mark.requirement("fortsetzen_epochenmitte")
def test_resume_in_the_middle_of_an_epoch_is_exact(first_part, resumed_mid_epoch, uninterrupted):
    expect_identical(uninterrupted, first_part[1], resumed_mid_epoch,
                     f"nach Schritt {STOP_STEP} (mitten in der zweiten Epoche)")


@pytest.mark.timeout(4 * HARNESS_TIMEOUT)
@pytest.mark.requirement("fortsetzen_zufall")
def test_next_random_draws_after_resume(resumed_mid_epoch, uninterrupted):
    expected, after = uninterrupted["draws"], resumed_mid_epoch["draws"]
    wrong = [name for name in ("torch", "numpy", "python") if differences(expected[name], after[name])]
    check(not wrong, f"Nach resume_training_state ziehen {', '.join(wrong)} andere Zufallszahlen als ohne "
                     "Unterbrechung. Erwartet: alle Generatoren auf dem Stand beim Speichern, und zwar erst "
                     "nachdem iter(loader) erzeugt wurde.")


def write_garbage(path):
    path.write_bytes(b"kein Checkpoint")


@pytest.mark.requirement("fortsetzen_fehlende_datei")
@pytest.mark.parametrize("situation", ["einer fehlenden Datei", "einer unbrauchbaren Datei"])
def test_missing_or_unusable_file_starts_fresh(state_submission, messages, tmp_path, situation):
    path = tmp_path / "zustand.pth"
    if situation == "einer unbrauchbaren Datei":
        write_garbage(path)
    result = call_without_escape(state_submission.resume_training_state, situation, "(None, None)",
                                 str(path), *build_training(epochs=1))
    check(isinstance(result, tuple) and len(result) == 2 and result[0] is None and result[1] is None,
          f"Bei {situation} gibt resume_training_state {describe_return(result)} zurück. "
          "Erwartet: (None, None), damit das Training von vorn beginnt.")
    check(messages.text() != "", f"Bei {situation} gibt resume_training_state keine Meldung aus.")
