"""Aufgabe 7: CheckpointManager. Each script of operations runs in a fresh process in the sandbox
with the submission's class, and here with the reference class; the records are compared
operation by operation. Damaged files and a save that breaks off half-way are part of the scripts."""

import contextlib
import io
import math
import re
import tempfile

import pytest

from grader.client import read_untrusted
from grader.scenarios import MANAGER_FOLDER, as_plain_result, manager_state, run_manager_script
from grader.text import german_list
from tests.grading.support import (
    MARKER,
    check,
    differences,
    error_text,
    observed,
    raised,
    read_content,
    summary,
)

NAN = math.nan


def saves(steps, values, monitor="val_loss"):
    return [["speichern", step, {monitor: value}] for step, value in zip(steps, values)]


SCRIPTS = {
    "rotation": [["neu", {"keep": 3}], *saves(range(1, 8), [0.9, 0.5, 0.7, 0.6, 0.8, 0.55, 0.65]),
                 ["dateien"], ["neuester"], ["bester"]],
    "namen": [["neu", {"keep": 3}], *saves([8, 9, 10, 99, 100, 999, 1000], [0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]),
              ["dateien"], ["neuester"]],
    "namen_bester_alt": [["neu", {"keep": 2}], *saves([9, 10, 99, 100, 999, 1000], [0.1, 0.5, 0.6, 0.7, 0.8, 0.9]),
                         ["dateien"], ["neuester"], ["bester"]],
    "max": [["neu", {"keep": 2, "monitor": "acc", "mode": "max"}],
            *saves(range(1, 6), [0.5, 0.9, 0.7, 0.8, 0.6], "acc"), ["dateien"], ["bester"]],
    "gleichstand": [["neu", {"keep": 2}], *saves(range(1, 6), [0.5, 0.4, 0.4, 0.6, 0.7]), ["bester"], ["dateien"]],
    "nan": [["neu", {"keep": 2}], *saves(range(1, 6), [NAN, 0.7, NAN, 0.9, NAN]), ["bester"], ["dateien"]],
    "nur_nan": [["neu", {"keep": 2}], *saves([1, 2], [NAN, NAN]), ["bester"]],
    "abgeschnitten": [["neu", {"keep": 3}], *saves(range(1, 5), [0.5, 0.6, 0.7, 0.8]),
                      ["beschaedigen", 4, "abgeschnitten"], ["neuester"]],
    "muell": [["neu", {"keep": 3}], *saves(range(1, 5), [0.5, 0.6, 0.7, 0.8]),
              ["beschaedigen", 4, "muell"], ["beschaedigen", 3, "fremd"], ["neuester"]],
    "manipuliert": [["neu", {"keep": 3}], *saves(range(1, 5), [0.5, 0.6, 0.7, 0.8]),
                    ["beschaedigen", 4, "manipuliert"], ["neuester"]],
    "absturz": [["neu", {"keep": 1}], *saves([1, 2], [0.5, 0.6]), ["speichern", 3, {"val_loss": 0.7}, "bricht_ab"],
                ["neuester"], ["dateien"], ["speichern", 4, {"val_loss": 0.4}], ["dateien"], ["neuester"]],
    "neustart_a": [["neu", {"keep": 10}], *saves(range(1, 6), [0.9, 0.3, 0.7, 0.6, 0.8]), ["dateien"]],
    "neustart_b": [["neu", {"keep": 10}], ["bester"], ["neuester"], ["speichern", 6, {"val_loss": 0.85}],
                   ["dateien"], ["bester"]],
}
STEP_NAME = re.compile(r"^schritt-(\d+)\.pt$")


def reference_call(function):
    try:
        value = function()
    except Exception as error:
        return {"raised": {"type": type(error).__name__, "message": str(error)}}, None
    return {"returned": True, "value": as_plain_result(value)}, value


def reference_records(reference, scripts):
    """The reference's records of ``scripts`` (run one after another in one folder, as a restart does)."""
    with tempfile.TemporaryDirectory() as folder:
        buffer = io.StringIO()

        def printed():
            text = buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            return text.strip()

        with contextlib.redirect_stdout(buffer):
            return [run_manager_script(reference.CheckpointManager, folder, SCRIPTS[name], reference_call, printed)
                    for name in scripts][-1]


@pytest.fixture(scope="session")
def reference_manager():
    from tests.grading.expectations import import_reference

    reference = import_reference("verwaltung")
    records = {name: reference_records(reference, [name]) for name in SCRIPTS if name != "neustart_b"}
    records["neustart_b"] = reference_records(reference, ["neustart_a", "neustart_b"])
    return records


@pytest.fixture(scope="session")
def managed(worker):
    """Every script in a fresh process of its own; the restart gets the files the first process left."""
    pending = {name: worker.start("manager", "verwaltung", args={"script": SCRIPTS[name]})
               for name in SCRIPTS if name != "neustart_b"}
    outcomes = {name: handle.result() for name, handle in pending.items()}
    first = outcomes["neustart_a"]
    files = {}
    records = (first.observation or {}).get("records")
    if isinstance(records, list) and records and isinstance(records[-1].get("files"), list):
        for name in records[-1]["files"][:20]:
            if isinstance(name, str) and STEP_NAME.match(name):
                data = read_untrusted(first.folder, f"{MANAGER_FOLDER}/{name}")
                if data is not None:
                    files[f"{MANAGER_FOLDER}/{name}"] = data
    outcomes["neustart_b"] = worker.run("manager", "verwaltung", args={"script": SCRIPTS["neustart_b"]}, files=files)
    return outcomes


def step_of(name):
    found = STEP_NAME.match(name) if isinstance(name, str) else None
    return int(found.group(1)) if found else name


def shown(value, exact_names):
    """A result as the comparison sees it: by step numbers, unless the names themselves are graded."""
    if exact_names:
        return value
    if isinstance(value, list):
        return [shown(item, exact_names) for item in value]
    return step_of(value)


def operation(record, script, index):
    step = script[index]
    return {"neu": lambda: f"CheckpointManager({', '.join(f'{k}={v!r}' for k, v in step[1].items())})",
            "speichern": lambda: f"save({step[1]}, …, {step[2]})" + (" mit einem Objekt, das sich nicht speichern lässt"
                                                                    if len(step) > 3 else ""),
            "neuester": lambda: "latest_valid()", "bester": lambda: "best()", "dateien": lambda: "die Dateien im Ordner",
            "beschaedigen": lambda: f"Datei von Schritt {step[1]} beschädigt"}[record["op"]]()


def records_of(outcome, situation):
    observation = observed(outcome, situation)
    records = observation.get("records")
    check(isinstance(records, list) and all(isinstance(record, dict) for record in records),
          f"Die Prüfung {situation} lieferte unvollständige Beobachtungen.", "abbruch")
    return records


def checkpoints(entry, exact_names):
    """The checkpoint files of a listing (other files, such as a manifest, are the manager's own business)."""
    return sorted(shown(name, exact_names) for name in entry.get("files") or [] if STEP_NAME.match(str(name)))


def contents(steps):
    """What a folder holds, as the object of a sentence."""
    if not steps:
        return "keinen Checkpoint"
    if len(steps) == 1:
        return f"nur den Checkpoint von Schritt {steps[0]}"
    return f"die Checkpoints der Schritte {german_list(map(str, steps))}"


def described(value):
    """A result in a sentence: ``Schritt 7``, ``Schritt 2 mit dem Wert 0.3``, a file name, or ``None``."""
    if type(value) is int:
        return f"Schritt {value}"
    if isinstance(value, list) and len(value) == 2:
        return f"{described(value[0])} mit dem Wert {str(value[1]).replace('.', ',')}"
    return repr(value) if isinstance(value, str) else str(value)


def describe(entry, exact_names):
    if entry.get("op") == "dateien":
        names = checkpoints(entry, exact_names)
        if not names:
            return "kein Checkpoint"
        if all(type(name) is int for name in names):
            return f"die Checkpoints der Schritte {german_list(map(str, names))}"
        return f"die Dateien {german_list(map(described, names))}"
    call = entry.get("call") or {}
    if "raised" in call:
        return f"die Ausnahme {error_text(call['raised'])}"
    return described(shown(call.get("value"), exact_names))


def expect_like_reference(outcome, expected, name, situation, exact_names=False, only=None):
    """Compare the submission's records with the reference's, operation by operation."""
    records = records_of(outcome, situation)
    script = SCRIPTS[name]
    for index, wanted in enumerate(expected):
        got = records[index] if index < len(records) else {}
        if "call" in got and "raised" in got["call"]:
            raised(got["call"])  # a stub or an attempt to end the program ends the test here
        if only and wanted["op"] not in only:
            continue
        if wanted["op"] in ("neu", "beschaedigen"):
            error = (got.get("call") or {}).get("raised")
            check(not error, f"{situation}: {operation(wanted, script, index)} löste {error_text(error)} aus.")
            continue
        if wanted["op"] == "dateien":
            same = checkpoints(got, exact_names) == checkpoints(wanted, exact_names)
        elif "raised" in wanted["call"]:
            same = "raised" in (got.get("call") or {})
        else:
            call = got.get("call") or {}
            same = "raised" not in call and shown(call.get("value"), exact_names) == shown(wanted["call"]["value"], exact_names)
        if not same:
            saved = sum(1 for record in expected[:index] if record["op"] == "speichern")
            prefix = f"{situation}: Nach {saved} Aufrufen von save" if saved else situation
            if wanted["op"] == "dateien":
                text = f"{prefix} liegen im Ordner {describe(got, exact_names)}; erwartet: {describe(wanted, exact_names)}."
            else:
                text = (f"{prefix} ergibt {operation(wanted, script, index)} {describe(got, exact_names)}; erwartet: "
                        f"{describe(wanted, exact_names)}.")
            check(False, text)
    return records


@pytest.mark.requirement("verwaltung_rotation")
def test_keeps_the_newest_and_the_best(managed, reference_manager):
    records = expect_like_reference(managed["rotation"], reference_manager["rotation"], "rotation",
                                    "Mit keep=3 und val_loss 0,9 0,5 0,7 0,6 0,8 0,55 0,65", only=("dateien", "neuester"))
    newest = (records[-2].get("call") or {}).get("value")
    data = read_untrusted(managed["rotation"].folder, f"{MANAGER_FOLDER}/{newest}") if isinstance(newest, str) else None
    content, _ = read_content(data) if data is not None else (None, None)
    expected = {"step": 7, "metrics": {"val_loss": 0.65}, "state": manager_state(7)}
    diffs = differences(expected, content, "Inhalt") if isinstance(content, dict) else ["nicht mit weights_only=True ladbar"]
    check(not diffs, f"Der neueste Checkpoint enthält nicht {{'step': 7, 'metrics': …, 'state': …}}: {summary(diffs)}.")


@pytest.mark.requirement("verwaltung_namen")
@pytest.mark.parametrize("name", ["namen", "namen_bester_alt"])
def test_names_sort_past_nine(managed, reference_manager, name):
    situation = {"namen": "Mit den Schritten 8, 9, 10, 99, 100, 999 und 1000",
                 "namen_bester_alt": "Mit den Schritten 9, 10, 99, 100, 999 und 1000"}[name]
    expect_like_reference(managed[name], reference_manager[name], name, situation, exact_names=True,
                          only=("speichern", "neuester", "bester"))


@pytest.mark.requirement("verwaltung_bester")
@pytest.mark.parametrize("name", ["rotation", "max"])
def test_best_with_min_and_max(managed, reference_manager, name):
    situation = {"rotation": "Mit mode='min' und val_loss 0,9 0,5 0,7 0,6 0,8 0,55 0,65",
                 "max": "Mit mode='max' und acc 0,5 0,9 0,7 0,8 0,6"}[name]
    expect_like_reference(managed[name], reference_manager[name], name, situation, only=("bester",))


@pytest.mark.requirement("verwaltung_gleichstand")
def test_tie_keeps_the_earlier(managed, reference_manager):
    expect_like_reference(managed["gleichstand"], reference_manager["gleichstand"], "gleichstand",
                          "Mit val_loss 0,5 0,4 0,4 0,6 0,7 (Gleichstand bei Schritt 2 und 3)", only=("bester",))


@pytest.mark.requirement("verwaltung_nan")
@pytest.mark.parametrize("name", ["nan", "nur_nan"])
def test_nan_is_never_the_best(managed, reference_manager, name):
    situation = {"nan": "Mit val_loss nan 0,7 nan 0,9 nan", "nur_nan": "Mit val_loss nan nan"}[name]
    expect_like_reference(managed[name], reference_manager[name], name, situation, only=("bester",))


@pytest.mark.requirement("verwaltung_neuester_gueltiger")
@pytest.mark.parametrize("name", ["abgeschnitten", "muell"])
def test_skips_broken_files_and_names_them(managed, reference_manager, name):
    situation = {"abgeschnitten": "Wenn der neueste Checkpoint abgeschnitten ist",
                 "muell": "Wenn der neueste Checkpoint aus Zufallsbytes besteht und der vorletzte ein fremdes "
                          "Dictionary {'epoch': 3} enthält"}[name]
    records = expect_like_reference(managed[name], reference_manager[name], name, situation, only=("neuester",))
    skipped = {"abgeschnitten": ["schritt-000004.pt"], "muell": ["schritt-000004.pt", "schritt-000003.pt"]}[name]
    said = records[-1].get("printed") or ""
    named = {int(number) for number in re.findall(r"schritt-(\d+)\.pt", said)}
    missing = [file for file in skipped if step_of(file) not in named]
    check(not missing, f"{situation}, nennt latest_valid nicht jede übersprungene Datei mit Grund "
                       f"(es fehlt {german_list(missing)}; Ihre Ausgabe: „{said[:200]}“).")


@pytest.mark.requirement("verwaltung_sicher")
def test_crafted_file_runs_no_code(managed):
    outcome = managed["manipuliert"]
    records = records_of(outcome, "in latest_valid")
    call = records[-1].get("call") or {} if records else {}
    error = raised(call) if call else None
    check(not error, f"latest_valid löste bei einem manipulierten Checkpoint {error_text(error)} aus.")
    check(observed(outcome, "in latest_valid").get("load_called"),
          "latest_valid hat die Checkpoints nicht mit torch.load gelesen; so lässt sich nicht prüfen, ob eine "
          "manipulierte Datei sicher geprüft wird. Erwartet: torch.load(path, weights_only=True).")
    check(not any(path.name == MARKER for path in outcome.folder.rglob("*")),
          "Beim Prüfen eines manipulierten Checkpoints wurde darin versteckter Code ausgeführt. Erwartet: "
          "torch.load(..., weights_only=True).")


@pytest.mark.requirement("verwaltung_absturz")
def test_a_failed_save_keeps_the_previous_one(managed, reference_manager):
    situation = "Mit keep=1, wenn das Speichern von Schritt 3 abbricht"
    records = records_of(managed["absturz"], situation)
    for index, record in enumerate(records):
        if index != 3 and "raised" in (record.get("call") or {}):  # the save of step 3 is meant to fail
            raised(record["call"])  # a stub ends the test here
    steps = [step_of(name) for name in (records[5].get("files") or [] if len(records) > 5 else [])]
    check(2 in steps and 3 not in steps,
          f"{situation}, enthält der Ordner danach {contents(steps)}. Erwartet: "
          "Schritt 2 ist noch da, von Schritt 3 gibt es keine (halbe) Datei – erst vollständig schreiben, dann "
          "alte löschen.")
    expect_like_reference(managed["absturz"], reference_manager["absturz"], "absturz", situation,
                          only=("speichern", "neuester"))


@pytest.mark.requirement("verwaltung_neustart")
def test_a_new_manager_knows_the_folder(managed, reference_manager):
    expect_like_reference(managed["neustart_b"], reference_manager["neustart_b"], "neustart_b",
                          "Nach einem Neustart (ein neuer CheckpointManager in einem neuen Prozess auf dem Ordner mit "
                          "den Schritten 1 bis 5)")
