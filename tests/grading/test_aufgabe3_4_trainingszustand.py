"""Aufgaben 3 and 4: the complete training state, and a bitwise exact resume in a fresh process.

Aufgabe 4 is graded on checkpoints written here by the reference (only the RNG states come from
the submission's own ``capture_rng_states``), so that a mistake in Aufgabe 3 does not cost its points.
"""

import io

import numpy as np
import pytest
import torch

from grader import scenarios
from grader.client import read_untrusted
from grader.text import german_list, quote
from tests.grading import expectations
from tests.grading.support import (
    TRAINING_CPU_SECONDS,
    broken_files,
    check,
    describe_return,
    differences,
    error_text,
    expect_no_code_ran,
    expect_interrupt_propagates,
    observed,
    printed,
    raised,
    read_content,
    refusal,
    returned,
    summary,
    torch_bytes,
    with_hint,
)

STATE_KEYS = ("model_state_dict", "optimizer_state_dict", "scheduler_state_dict", "progress")


# --- Aufgabe 3 -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def saved_state(worker):
    """The submission's save_training_state in a fresh process; the file and what the probe read from it."""
    outcome = worker.run("save_state", "training_state")
    observation = observed(outcome, "in save_training_state")
    error = raised(observation["call"])
    data = read_untrusted(outcome.folder, "zustand.pth")
    check(data is not None, f"save_training_state hat keine Datei angelegt{': ' + error_text(error) if error else ''}.")
    content, refused = read_content(data)
    described = observation.get("content")
    check(content is not None, f"Die Datei lässt sich auch mit freigegebenen NumPy-Typen nicht mit weights_only=True "
                               f"lesen: {refusal(str(refused), described)}")
    return content, refused, described


@pytest.fixture(scope="session")
def expected_state():
    return expectations.get().state_in_progress


@pytest.mark.requirement("zustand_inhalt")
def test_state_dicts_and_progress_saved(saved_state, expected_state):
    content = saved_state[0]
    check(isinstance(content, dict), f"Gespeichert wurde {quote(content, 80)}, erwartet ein Dictionary.")
    for key in STATE_KEYS:
        check(key in content, f"Im Checkpoint fehlt der Schlüssel {key!r}.")
        diffs = differences(expected_state[key], content[key], key)
        check(not diffs, f"Unter {key!r} steht nicht der Zustand beim Speichern: {summary(diffs)}.")


@pytest.mark.requirement("zustand_weights_only")
def test_loads_with_weights_only_and_empty_allowlist(saved_state):
    _, refused, described = saved_state
    if refused is not None:
        check(False, f"torch.load(..., weights_only=True) lehnt die Datei ab. {refusal(str(refused), described)} "
                     "Erwartet: nur Tensoren und einfache Werte, z. B. den NumPy-Zustand als Liste von int "
                     "statt als numpy.ndarray und str(torch.__version__) statt torch.__version__.")


def as_int_list(value):
    if isinstance(value, (torch.Tensor, np.ndarray)):
        return [int(v) for v in value.reshape(-1).tolist()]
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, (int, np.integer)) for v in value):
        return [int(v) for v in value]
    return None


def contains(structure, matches):
    if matches(structure):
        return True
    if isinstance(structure, dict):
        return any(contains(value, matches) for value in structure.values())
    if isinstance(structure, (list, tuple)):
        return any(contains(value, matches) for value in structure)
    return False


@pytest.mark.requirement("zustand_zufall")
def test_rng_states_saved(saved_state, expected_state):
    content = saved_state[0]
    torch_state, numpy_state, python_state = expected_state["rng"]
    rest = {key: value for key, value in content.items() if key != "progress"} if isinstance(content, dict) else {}
    missing = [
        name for name, found in (
            ("torch", contains(rest, lambda v: isinstance(v, torch.Tensor) and torch.equal(v, torch_state))),
            ("NumPy", contains(rest, lambda v: as_int_list(v) == numpy_state[1].tolist())),
            ("Python", contains(rest, lambda v: as_int_list(v) == list(python_state[1]))),
        ) if not found
    ]
    check(not missing, f"Im Checkpoint fehlt der aktuelle Zustand {'des Generators' if len(missing) == 1 else 'der Generatoren'} "
                       f"von {german_list(missing)}. "
                       "Erwartet: torch.get_rng_state(), np.random.get_state() und random.getstate() beim Speichern.")


# --- Aufgabe 4 -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def uninterrupted():
    """The reference run without interruption (see ``tests/grading/expectations.py``)."""
    return expectations.get().reference_run


@pytest.fixture(scope="session")
def resumed(worker, uninterrupted):
    """The submission resumes from the reference's checkpoints at both points, each in a fresh process."""
    _, points, _ = uninterrupted
    pending = {point: worker.start("resume", "training_state", cpu=TRAINING_CPU_SECONDS,
                                   files={"referenz.pt": torch_bytes({"state": data["state"], "rng": data["rng"]})})
               for point, data in points.items()}
    return {point: handle.result() for point, handle in pending.items()}


def resumed_start(outcome, situation):
    """The observation of a resume up to the first step; a Failure says why it did not get there."""
    observation = observed(outcome, f"beim Fortsetzen {situation}")
    capture_error = raised(observation["capture"])
    check(not capture_error, f"capture_rng_states löste {error_text(capture_error)} aus.")
    if "resume" in observation and observation["resume"]:
        error = raised(observation["resume"])
        check(not error, f"resume_training_state löste beim Fortsetzen {situation} {error_text(error)} aus.")
    value = returned(observation["resume"]) or {}
    items = value.get("items") or []
    fresh_start = len(items) == 2 and all(item["type"] == "NoneType" for item in items)
    check(not (fresh_start and "capture_refused" in observation),
          f"Folgefehler aus Aufgabe 3: Einen Checkpoint mit den Zuständen aus Ihrem capture_rng_states lehnt "
          f"torch.load(..., weights_only=True) ab ({error_text(observation.get('capture_refused'))}), deshalb "
          "kann resume_training_state ihn nicht laden.")
    check(not fresh_start,
          f"resume_training_state gab (None, None) zurück, obwohl ein gültiger Checkpoint vorlag"
          f"{' (Ihre Meldung: „' + printed(outcome) + '“)' if printed(outcome) else ''}. Erwartet: der gespeicherte "
          "Fortschritt und ein Iterator über die restlichen Batches.")
    return observation


def resumed_run(outcome, situation):
    """The observation of a resumed run to its end; a Failure says why it did not get there."""
    observation = resumed_start(outcome, situation)
    error = observation.get("training_error")
    check(error is None, with_hint(f"Nach resume_training_state brach das Training {situation} ab "
                                   f"({error_text(error)}).", error))
    return observation


def expect_identical(run, first_steps, second, situation):
    learning_rates = run["learning_rates"][:first_steps] + second["learning_rates"]
    check(learning_rates == run["learning_rates"],
          f"Nach dem Fortsetzen {situation} weicht der Verlauf der Lernrate ab (Schritte: {len(learning_rates)} "
          f"statt {len(run['learning_rates'])}). Erwartet: der Scheduler-Zustand und die Position in den Daten.")
    check(run["losses"][:first_steps] + second["losses"] == run["losses"],
          f"Nach dem Fortsetzen {situation} weichen die Verluste vom Lauf ohne Unterbrechung ab. Erwartet: dieselben "
          "Batches in derselben Reihenfolge und derselbe Zufall (Dropout, Augmentierung).")
    diffs = differences(run["weights"], second["weights"], "model.state_dict()")
    check(not diffs, f"Nach dem Fortsetzen {situation} sind die Gewichte am Ende anders: {summary(diffs)}.")


@pytest.mark.requirement("fortsetzen_epochenende")
def test_resume_at_end_of_epoch_is_exact(uninterrupted, resumed):
    run, points, _ = uninterrupted
    situation = "am Ende der ersten Epoche"
    expect_identical(run, points["epochenende"]["steps"], resumed_run(resumed["epochenende"], situation), situation)


@pytest.mark.requirement("fortsetzen_epochenmitte")
def test_resume_in_the_middle_of_an_epoch_is_exact(uninterrupted, resumed):
    run, points, _ = uninterrupted
    situation = f"nach Schritt {scenarios.STOP_STEP} (mitten in der zweiten Epoche)"
    expect_identical(run, points["epochenmitte"]["steps"], resumed_run(resumed["epochenmitte"], situation), situation)


@pytest.mark.requirement("fortsetzen_zufall")
def test_next_random_draws_after_resume(uninterrupted, resumed):
    run, _, _ = uninterrupted
    after = resumed_start(resumed["epochenmitte"], "mitten in der zweiten Epoche")["draws"]
    names = {"torch": "torch", "numpy": "NumPy", "python": "Python"}
    wrong = [names[name] for name in names if differences(run["draws"][name], after.get(name))]
    check(not wrong, f"Nach resume_training_state {'zieht' if len(wrong) == 1 else 'ziehen'} {german_list(wrong)} andere Zufallszahlen als ohne "
                     "Unterbrechung. Erwartet: alle Generatoren auf dem Stand beim Speichern, und zwar erst "
                     "nachdem iter(loader) erzeugt wurde.")


def state_files(reference_file, lesson_one_file):
    """Unusable files for resume_training_state: the set of Aufgabe 2 and the traps of lesson 2."""
    checkpoint = torch.load(io.BytesIO(reference_file), weights_only=True)
    prefixed = {f"_orig_mod.{key}": value for key, value in checkpoint["model_state_dict"].items()}
    other_model = scenarios.make_model(0).state_dict()
    return {
        **broken_files(reference_file),
        "einem Checkpoint aus Lektion 1 (ohne Scheduler und Zufallszustände)": lesson_one_file,
        "einem Checkpoint eines anderen Modells": torch_bytes({**checkpoint, "model_state_dict": other_model}),
        "einem Checkpoint mit dem Präfix '_orig_mod.' (torch.compile) vor jedem Schlüssel":
            torch_bytes({**checkpoint, "model_state_dict": prefixed}),
    }


UNUSABLE_STATES = (
    "einer fehlenden Datei", "einer leeren Datei", "einer abgeschnittenen Datei", "einer Datei mit Zufallsbytes",
    "einer Textdatei", "einer Datei mit einer Liste statt eines Dictionarys",
    "einem Checkpoint aus Lektion 1 (ohne Scheduler und Zufallszustände)", "einem Checkpoint eines anderen Modells",
    "einem Checkpoint mit dem Präfix '_orig_mod.' (torch.compile) vor jedem Schlüssel",
)


@pytest.fixture(scope="session")
def state_fresh_starts(worker, uninterrupted, reference_file):
    files = state_files(uninterrupted[2], reference_file)
    pending = {situation: worker.start("resume_file", "training_state",
                                       files={"zustand.pth": files[situation]} if situation in files else {})
               for situation in UNUSABLE_STATES}
    return {situation: handle.result() for situation, handle in pending.items()}


def expect_none_pair(outcome, situation):
    observation = observed(outcome, f"in resume_training_state bei {situation}")
    error = raised(observation["call"])
    check(not error, with_hint(f"Bei {situation} hat resume_training_state die Ausnahme {error_text(error)} nicht "
                               "abgefangen. Erwartet: eine Meldung und (None, None), damit das Training von vorn "
                               "beginnt.", error))
    value = returned(observation["call"])
    items = value.get("items") or []
    check(value["type"] == "tuple" and len(items) == 2 and all(item["type"] == "NoneType" for item in items),
          f"Bei {situation} gibt resume_training_state {describe_return(value)} zurück. "
          "Erwartet: (None, None), damit das Training von vorn beginnt.")
    check(printed(outcome) != "", f"Bei {situation} gibt resume_training_state keine Meldung aus.")
    return observation


@pytest.mark.requirement("fortsetzen_fehlende_datei")
@pytest.mark.parametrize("situation", UNUSABLE_STATES)
def test_missing_or_unusable_file_starts_fresh(state_fresh_starts, situation):
    expect_none_pair(state_fresh_starts[situation], situation)


@pytest.mark.requirement("fortsetzen_sicher")
def test_crafted_state_file_runs_no_code(worker, uninterrupted):
    checkpoint = torch.load(io.BytesIO(uninterrupted[2]), weights_only=True)
    crafted = torch_bytes({**checkpoint, "progress": {**checkpoint["progress"], "epoch": scenarios.CreatesMarker()}})
    outcome = worker.run("resume_file", "training_state", files={"zustand.pth": crafted},
                         env={"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"})
    expect_no_code_ran(outcome, "resume_training_state")


@pytest.mark.requirement("fortsetzen_unterbrechung")
@pytest.mark.parametrize("kind", ["KeyboardInterrupt", "SystemExit"])
def test_interrupt_while_resuming_propagates(worker, uninterrupted, kind):
    outcome = worker.run("resume_file", "training_state", files={"zustand.pth": uninterrupted[2]},
                         args={"interrupt": kind})
    expect_interrupt_propagates(outcome, "resume_training_state", kind)
