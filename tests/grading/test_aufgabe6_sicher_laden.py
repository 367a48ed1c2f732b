"""Aufgabe 6: safe_load. The files are written here (by torch.save of DataParallel, torch.compile and
plain models, one tagged as from a GPU machine, and broken ones); the submission loads them into
fresh objects in the sandbox, and their state afterwards is compared here with states computed here."""

import re

import pytest

from grader.scenarios import CLASSES, HIDDEN, OTHER_CLASSES
from grader.text import german_list
from tests.grading.support import (
    check,
    describe_return,
    differences,
    error_text,
    expect_no_code_ran,
    observed,
    raised,
    returned,
    summary,
    with_hint,
)

LOADABLE = {
    "passend": ("classifier", "einem passenden Checkpoint"),
    "dataparallel": ("classifier", "einem Checkpoint eines mit DataParallel umhüllten Modells (Präfix module.)"),
    "compiled": ("classifier", "einem Checkpoint eines mit torch.compile übersetzten Modells (Präfix _orig_mod.)"),
    "holder": ("holder", "einem Modell mit einem Untermodul namens module"),
    "gpu": ("classifier", "einem Checkpoint von einer GPU-Maschine (Tensoren auf cuda:0)"),
}
PROBLEMS = {
    "andere_formen": f"einem Checkpoint mit {OTHER_CLASSES} statt {CLASSES} Klassen (andere Formen)",
    "andere_namen": "einem Checkpoint mit der Ausgabeschicht kopf statt head",
    "ohne_optimierer": "einem Checkpoint ohne 'optimizer_state_dict'",
    "teilweise_praefix": "einem Checkpoint mit dem Präfix module. vor nur manchen Schlüsseln",
    "unsicherer_typ": "einem Checkpoint mit einem argparse.Namespace darin",
    "andere_gruppen": "einem Optimiererzustand mit zwei statt einer Parametergruppe",
    "optimierer_formen": f"einem Optimiererzustand eines Modells mit {OTHER_CLASSES} statt {CLASSES} Klassen",
    "abgeschnitten": "einer abgeschnittenen Datei",
    "fehlt": "einer fehlenden Datei",
}
# What the message must name for each problem (regular expressions; the shapes in any notation).
SHAPES = [rf"\b{OTHER_CLASSES}\D{{1,4}}{HIDDEN}\b", rf"\b{CLASSES}\D{{1,4}}{HIDDEN}\b"]
NAMED = {
    "andere_formen": ("beide Formen", SHAPES),
    "optimierer_formen": ("beide Formen", SHAPES),
    "andere_namen": ("den fehlenden Schlüssel", [r"head\.(weight|bias)"]),
    "ohne_optimierer": ("den fehlenden Schlüssel", [r"optimizer_state_dict"]),
    "unsicherer_typ": ("den abgelehnten Typ", [r"argparse\.Namespace"]),
}


@pytest.fixture(scope="session")
def loaded(worker, robust):
    """Every safe_load probe at once, each in a fresh process with fresh objects."""
    pending = {}
    for case, (kind, _) in LOADABLE.items():
        pending[case] = worker.start("safe_load", "robust", args={"kind": kind}, files={"stand.pt": robust["files"][case]})
    for case in PROBLEMS:
        files = {} if case == "fehlt" else {"stand.pt": robust["files"][case]}
        pending[case] = worker.start("safe_load", "robust", files=files)
    pending["manipuliert"] = worker.start("safe_load", "robust", files={"stand.pt": robust["files"]["manipuliert"]})
    return {case: handle.result() for case, handle in pending.items()}


def states_after(outcome):
    observation = observed(outcome, "in safe_load")
    raised(observation["call"])  # a stub ends here
    for part in ("model", "optimizer"):
        check(part in observation, f"Der Zustand von {'Modell' if part == 'model' else 'Optimierer'} ließ sich nach "
                                   f"safe_load nicht auslesen: {error_text(observation.get(part + '_error'))}.")
    return observation


def expect_loaded(outcome, robust, case):
    kind, situation = LOADABLE[case]
    observation = states_after(outcome)
    error = raised(observation["call"])
    check(not error, with_hint(f"safe_load löste bei {situation} {error_text(error)} aus.", error))
    said = f" Ihre Meldung: „{outcome.output.strip()[:200]}“" if outcome.output.strip() else ""
    check(returned(observation["call"])["type"] != "NoneType",
          f"safe_load gab bei {situation} None zurück, obwohl der Checkpoint passt.{said}")
    model, optimizer = robust["trained"][kind]
    diffs = differences(model, observation["model"], "model.state_dict()") + differences(
        optimizer, observation["optimizer"], "optimizer.state_dict()")
    check(not diffs, f"Nach safe_load mit {situation} haben Modell und Optimierer nicht den gespeicherten Zustand: "
                     f"{summary(diffs)}.")
    return observation


@pytest.mark.requirement("sicher_laden_erfolg")
def test_loads_a_matching_checkpoint_and_returns_the_rest(loaded, robust):
    observation = expect_loaded(loaded["passend"], robust, "passend")
    value = observation["value"]
    diffs = differences(robust["rest"], value, "Rückgabe") if isinstance(value, dict) else ["kein Dictionary"]
    check(not diffs, f"safe_load gibt {describe_return(returned(observation['call']))} zurück. Erwartet: der Rest des "
                     f"Checkpoints als Dictionary, hier {robust['rest']} ({summary(diffs)}).")


@pytest.mark.requirement("sicher_laden_praefixe")
@pytest.mark.parametrize("case", ["dataparallel", "compiled"])
def test_loads_checkpoints_with_a_prefix(loaded, robust, case):
    expect_loaded(loaded[case], robust, case)


@pytest.mark.requirement("sicher_laden_echte_namen")
def test_genuine_module_names_stay(loaded, robust):
    expect_loaded(loaded["holder"], robust, "holder")


@pytest.mark.requirement("sicher_laden_geraet")
def test_checkpoint_from_a_gpu_machine(loaded, robust):
    expect_loaded(loaded["gpu"], robust, "gpu")


@pytest.mark.requirement("sicher_laden_unveraendert")
@pytest.mark.parametrize("case", PROBLEMS)
def test_nothing_changes_on_a_problem(loaded, robust, case):
    observation = states_after(loaded[case])
    model, optimizer = robust["fresh"]["classifier"]
    changed = [name for name, expected in (("das Modell", model), ("der Optimierer", optimizer))
               if differences(expected, observation["model" if name == "das Modell" else "optimizer"])]
    check(not changed, f"Nach safe_load mit {PROBLEMS[case]} {'ist' if len(changed) == 1 else 'sind'} "
                       f"{german_list(changed)} verändert. Erwartet: erst "
                       "alles prüfen (Schlüssel, Formen, Parametergruppen), dann laden – load_state_dict kopiert "
                       "passende Tensoren, bevor es bei einem Fehler abbricht.")


@pytest.mark.requirement("sicher_laden_rueckgabe")
@pytest.mark.parametrize("case", PROBLEMS)
def test_returns_none_without_exception(loaded, case):
    observation = observed(loaded[case], "in safe_load")
    error = raised(observation["call"])
    check(not error, with_hint(f"Bei {PROBLEMS[case]} löste safe_load {error_text(error)} aus. Erwartet: eine Meldung "
                               "und die Rückgabe None.", error))
    value = returned(observation["call"])
    check(value["type"] == "NoneType", f"Bei {PROBLEMS[case]} gab safe_load {describe_return(value)} zurück. "
                                       "Erwartet: None, denn es wurde nichts geladen.")


@pytest.mark.requirement("sicher_laden_meldung")
@pytest.mark.parametrize("case", PROBLEMS)
def test_message_names_the_problem(loaded, case):
    outcome = loaded[case]
    observed(outcome, "in safe_load")
    text = outcome.output.strip()
    check(text, f"Bei {PROBLEMS[case]} gibt safe_load keine Meldung aus. Erwartet: ein Hinweis (print, sys.stderr oder "
                "logging), was nicht passt.")
    if case in NAMED:
        what, patterns = NAMED[case]
        check(all(re.search(pattern, text) for pattern in patterns),
              f"Bei {PROBLEMS[case]} nennt die Meldung von safe_load nicht {what}: „{text[:200]}“.")


@pytest.mark.requirement("sicher_laden_weights_only")
def test_crafted_file_runs_no_code(loaded):
    expect_no_code_ran(loaded["manipuliert"], "safe_load")


@pytest.mark.requirement("sicher_laden_allowlist")
@pytest.mark.parametrize("case", ["passend", "unsicherer_typ"])
def test_allowlist_stays_as_it_was(loaded, case):
    observation = observed(loaded[case], "in safe_load")
    raised(observation["call"])
    added, removed = observation.get("allowlist_added"), observation.get("allowlist_removed")
    check(isinstance(added, list) and not added,
          f"Nach safe_load stehen zusätzliche Typen in der Allowlist von weights_only: "
          f"{german_list(map(str, (added or [])[:3]))}. Erwartet: add_safe_globals nie dauerhaft; wenn überhaupt, "
          "dann torch.serialization.safe_globals([...]) als with-Block nur für ein Laden.")
    check(isinstance(removed, list) and not removed,
          f"Nach safe_load fehlen Typen, die das aufrufende Programm erlaubt hatte: "
          f"{german_list(map(str, (removed or [])[:3]))}. Erwartet: die Allowlist nicht leeren "
          "(clear_safe_globals) und nicht verändern.")
