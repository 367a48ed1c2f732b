"""Aufgabe 8: den ganzen Trainingszustand mit DCP verteilt speichern und fortsetzen.

One probe runs the submission's functions in the sandbox under torchrun (two ranks, FSDP2
``fully_shard``, gloo; ``grader.distributed``): a training that saves after step 3, in the
background after steps 6 and 7, and dies while the save after step 8 is in flight; then, in new
processes, three loads into fresh objects (after the first the training goes on to the end); then
one process without a process group loads the two ranks' checkpoint. Every rank's records are
compared here with the uninterrupted run, which ran under torchrun too, without any submission.
The checkpoints themselves are read here as well, by ``grader.dcp_files`` (never by DCP's own
reader, which unpickles ``.metadata``): what the ranks record cannot stand in for what they saved.
"""

import functools
import os
import re
import signal
import stat

import pytest
import torch

from grader.client import load_untrusted
from grader.dcp_files import read_in_child
from grader.distributed import ASYNC_AT, CRASH_AT, CRASH_EXIT, STEPS, SYNC_AT
from grader.results import Failure
from grader.text import describe_exception, rejected_global
from tests.grading import expectations
from tests.grading.support import (
    TRAINING_CPU_SECONDS,
    check,
    differences,
    error_text,
    key_paths,
    observed,
    summary,
    torch_bytes,
)

RUN_SECONDS = 240  # wall-clock limit of one torchrun; a hanging rank ends after the collective timeout already
RANKS = (0, 1)
SITUATION = "im verteilten Training mit torchrun"
# How gloo reports that the other rank's process ended (the rank's own error is then only a consequence).
PEER_LOST = re.compile(r"Connection (closed|reset) by peer|remote worker crashing|Broken pipe", re.IGNORECASE)


@pytest.fixture(scope="session")
def basis():
    """Each rank's records of the uninterrupted run (expectations.distributed_basis)."""
    return expectations.get().distributed


@pytest.fixture(scope="session")
def distributed_run(worker, basis):
    given = {"scheduler": basis[0]["scheduler"][SYNC_AT], "rng": {rank: basis[rank]["rng"][SYNC_AT] for rank in RANKS}}
    return worker.run("distributed", "verteilt", args={"timeout": RUN_SECONDS}, files={"basis.pt": torch_bytes(given)},
                      cpu=TRAINING_CPU_SECONDS, wall=2 * RUN_SECONDS + 120)


def how_it_failed(run, phase):
    """Why a run did not produce ``phase``: each rank's error, or how it ended and where it was (German
    sentences); a stub's NotImplementedError ends the test as "noch nicht implementiert"."""
    sentences, afterwards, lost = [], [], []
    for rank in RANKS:
        info = run["ranks"].get(rank) or {}
        errors, where, code = info.get("errors") or {}, info.get("where") or "?", info.get("exit")
        error = errors.get(phase) or errors.get("lauf")
        if error and error["type"] == "NotImplementedError":
            raise Failure(f"Noch nicht implementiert: {error['where']} löst NotImplementedError aus.",
                          "nicht_implementiert")
        if error and error["type"] == "SignalException":  # torchrun ends the others once one rank failed
            afterwards.append(f"Rang {rank} wurde darauf bei {error['where']} beendet.")
        elif error and PEER_LOST.search(error["message"]):  # gloo noticed the other rank's end first
            lost.append(f"Rang {rank} verlor darauf bei {error['where']} die Verbindung zum anderen Rang.")
        elif error:
            message = describe_exception(error["type"], re.sub(r"^\[[^\]]*\]\s*", "", error["message"])).rstrip(". ")
            waited = "timed out" in message.lower() or "timeout" in message.lower()
            hint = (" (Zeitüberschreitung beim Warten auf den anderen Rang: Hing dieser, oder rief nur ein Rang eine "
                    "gemeinsame Operation wie dcp.save auf?)" if waited else "")
            sentences.append(f"Rang {rank} scheiterte bei {error['where']}: {message}{hint}.")
        elif code == -signal.SIGXCPU:
            sentences.append(f"Rang {rank} hat bei {where} mehr Rechenzeit verbraucht, als erlaubt ist "
                             "(Endlosschleife?).")
        elif isinstance(code, int) and code < 0:
            sentences.append(f"Rang {rank} wurde bei {where} beendet (Signal {-code}).")
        elif code not in (0, CRASH_EXIT, None):
            sentences.append(f"Rang {rank} endete bei {where} mit dem Status {code}.")
    if not sentences and lost:  # nobody else said why: the lost connection is all there is to report
        lost = [sentence.replace(" darauf", "") for sentence in lost]
    sentences += lost + afterwards
    if run.get("timeout"):
        sentences.append(f"Der ganze Lauf wurde nach {run['limit']} s abgebrochen.")
    if run.get("launcher_error"):
        sentences.append("torchrun scheiterte: " + error_text(run["launcher_error"]))
    return " ".join(sentences) or "Ein Rang hat diesen Abschnitt nicht erreicht."


def runs(outcome):
    observation = observed(outcome, SITUATION)
    check(isinstance(observation.get("training"), dict), "Die Prüfung lieferte keine Beobachtung des Trainings.",
          "abbruch")
    return observation


def records(outcome, run_name, phase, rank):
    """What ``rank`` recorded in ``phase`` of a run, or a Failure that says why it is missing."""
    observation = runs(outcome)
    if run_name not in observation:
        training = observation["training"]
        check(False, "Das Fortsetzen wurde nicht geprüft: Nach dem Training fehlt ein vollständiger Checkpoint "
              f"schritt-{SYNC_AT:06d} (mit der Datei .metadata). " + how_it_failed(training, "training"), "abbruch")
    run = observation[run_name]
    try:
        found = load_untrusted(outcome.folder, f"rang-{rank}-{phase}.pt")
    except Exception:
        found = None
    check(isinstance(found, dict), how_it_failed(run, phase), "abbruch")
    return found


def training_reached(outcome, step):
    """Each rank's training records, once the training got past ``step``; else why it did not."""
    found = []
    for rank in RANKS:
        recorded = records(outcome, "training", "training", rank)
        check(recorded.get("step", 0) >= step, f"Das Training kam nicht bis Schritt {step}. "
              + how_it_failed(runs(outcome)["training"], "training"), "abbruch")
        found.append(recorded)
    return found


READ_STEPS = (SYNC_AT, ASYNC_AT[-1])  # the checkpoints read on the trusted side


@functools.lru_cache(maxsize=2)
def _read(folders, versions):
    """The checkpoints in ``folders``, read in a limited child process (grader.dcp_files), once for each
    version of their ``.metadata`` files."""
    return read_in_child(folders)


def version_of(folder):
    try:
        found = os.stat(os.path.join(folder, ".metadata"), follow_symlinks=False)
    except OSError:
        return None
    return found.st_ino, found.st_mtime_ns, found.st_size


def saved(outcome, step):
    """What ``checkpoints/schritt-<step>`` holds under ``"app"``, read on the trusted side (never by DCP's
    own reader, which unpickles), and the values ``weights_only=True`` refused there."""
    name = f"schritt-{step:06d}"
    checkpoints = outcome.folder / "checkpoints"
    check(not checkpoints.is_symlink(), "Der Ordner checkpoints ist ein symbolischer Link.")
    folders = tuple(str(checkpoints / f"schritt-{read:06d}") for read in READ_STEPS)
    found = _read(folders, tuple(version_of(folder) for folder in folders))[str(checkpoints / name)]
    check(not isinstance(found, str), f"Der Bewerter kann den Checkpoint {name} nicht lesen: {found}")
    state, refused = found
    app = state.get("app") if isinstance(state, dict) else None
    check(isinstance(app, dict), f"Im Checkpoint {name} fehlt der Eintrag \"app\": Speichern Sie mit "
          "dcp.save({\"app\": state}, ...).")
    return app, refused


def losses_match(expected, actual):
    return (isinstance(actual, list) and len(actual) == len(expected)
            and all(isinstance(a, torch.Tensor) and torch.equal(e, a) for e, a in zip(expected, actual)))


def step_value(value):
    return value if type(value) is int else f"{value!r}"


@pytest.mark.requirement("verteilt_dateien")
def test_every_rank_writes_its_part(distributed_run, basis):
    runs(distributed_run)
    folder = distributed_run.folder / "checkpoints" / f"schritt-{SYNC_AT:06d}"
    check(folder.is_dir() and not folder.is_symlink() and not folder.parent.is_symlink(),
          f"Nach save_checkpoint bei Schritt {SYNC_AT} fehlt der Ordner checkpoints/schritt-{SYNC_AT:06d}. "
          + how_it_failed(runs(distributed_run)["training"], "training"))
    files = {entry.name: entry for entry in os.scandir(folder)}
    regular = {name for name, entry in files.items() if stat.S_ISREG(entry.stat(follow_symlinks=False).st_mode)}
    check(".metadata" in regular, f"In schritt-{SYNC_AT:06d} fehlt die Datei .metadata: Das Speichern wurde nicht "
          "abgeschlossen (oder nicht mit dcp.save).")
    writers = {name.split("_")[2] for name in regular if name.startswith("__") and name.endswith(".distcp")}
    check(writers == {"0", "1"}, f"In schritt-{SYNC_AT:06d} liegen Dateien von den Rängen {sorted(writers) or 'keinem'}; "
          "erwartet: eine Datei von jedem der zwei Ränge (__0_0.distcp, __1_0.distcp). Rufen alle Ränge dcp.save auf?")
    saved(distributed_run, SYNC_AT)
    for rank in RANKS:
        recorded = records(distributed_run, "training", "training", rank)
        steps = len(recorded.get("losses") or [])
        check(steps > SYNC_AT, f"Rang {rank} trainierte nach dem Speichern nicht weiter. "
              + how_it_failed(runs(distributed_run)["training"], "training"))
        check(losses_match(basis[rank]["losses"][:steps], recorded["losses"]),
              f"Auf Rang {rank} weichen die Verluste des Trainings mit Ihren Speicheraufrufen von denen ohne "
              "Speichern ab: Das Speichern verändert das Training (zieht es etwa Zufallszahlen?).")


@pytest.mark.requirement("verteilt_modell_optimierer")
def test_model_and_optimizer_come_back_and_training_goes_on(distributed_run, basis):
    app, _ = saved(distributed_run, SYNC_AT)
    diffs = differences(basis[0]["full"][SYNC_AT]["model"], app.get("model"), "['app']['model']")
    check(not diffs, f"Im Checkpoint schritt-{SYNC_AT:06d} stehen nicht die Gewichte nach Schritt {SYNC_AT}: "
          f"{summary(diffs)}.")
    diffs = differences(basis[0]["full"][SYNC_AT]["optimizer"], app.get("optimizer"), "['app']['optimizer']")
    check(not diffs, f"Im Checkpoint schritt-{SYNC_AT:06d} steht nicht der Zustand des Optimierers nach Schritt "
          f"{SYNC_AT}: {summary(diffs)}. Speichern Sie ihn mit get_state_dict (Parameternamen statt Nummern, "
          "der ganze Zustand über die Ränge verteilt)?")
    loaded = records(distributed_run, "fortsetzen", "laden", 0)
    diffs = differences(basis[0]["full"][SYNC_AT], loaded.get("full"), "Zustand")
    check(not diffs, f"Nach load_latest (in neuen Prozessen, mit frisch gebauten Objekten) stimmt der Zustand nicht mit "
          f"dem beim Speichern nach Schritt {SYNC_AT} überein: {summary(diffs)}. Werden Modell und Optimierer mit "
          "get_state_dict/set_state_dict gespeichert und geladen? (Ein frischer Optimierer hat noch keinen Zustand, "
          "in den dcp.load laden könnte.)")
    for rank in RANKS:
        recorded = records(distributed_run, "fortsetzen", "laden", rank)
        check(losses_match(basis[rank]["losses"][SYNC_AT:], recorded.get("losses")),
              f"Nach dem Fortsetzen weichen die Verluste auf Rang {rank} von denen ohne Unterbrechung ab.")
        check(recorded.get("lrs") == basis[rank]["lrs"][SYNC_AT:],
              f"Nach dem Fortsetzen weichen die Lernraten auf Rang {rank} ab: Die param_groups des Optimierers "
              "(mit max_lr und initial_lr von OneCycleLR) kamen nicht zurück.")
    diffs = differences(basis[0]["full"][STEPS], loaded.get("final"), "Zustand")
    check(not diffs, f"Nach dem fortgesetzten Training bis Schritt {STEPS} weichen die Gewichte ab: {summary(diffs)}.")


@pytest.mark.requirement("verteilt_fortschritt")
def test_scheduler_and_step_come_back(distributed_run, basis):
    app, _ = saved(distributed_run, SYNC_AT)
    check(app.get("step") == SYNC_AT and type(app.get("step")) is int,
          f"Im Checkpoint schritt-{SYNC_AT:06d} steht unter ['app']['step'] {step_value(app.get('step'))}, "
          f"erwartet {SYNC_AT}.")
    diffs = differences(basis[0]["scheduler"][SYNC_AT], app.get("scheduler"), "['app']['scheduler']")
    check(not diffs, f"Im Checkpoint schritt-{SYNC_AT:06d} steht nicht der Zustand des Schedulers: {summary(diffs)}.")
    for rank in RANKS:
        recorded = records(distributed_run, "fortsetzen", "laden", rank)
        check(recorded.get("step") == SYNC_AT and type(recorded.get("step")) is int,
              f"Nach dem Laden ist state.step auf Rang {rank} {step_value(recorded.get('step'))}, erwartet {SYNC_AT}.")
        diffs = differences(basis[rank]["scheduler"][SYNC_AT], recorded.get("scheduler"), "scheduler.state_dict()")
        check(not diffs, f"Der Scheduler auf Rang {rank} kam nicht zurück: {summary(diffs)}.")


@pytest.mark.requirement("verteilt_zufall")
def test_each_rank_gets_its_own_generator_state(distributed_run, basis):
    for rank in RANKS:
        recorded = records(distributed_run, "fortsetzen", "laden", rank)
        rng = recorded.get("rng")
        if isinstance(rng, torch.Tensor) and torch.equal(rng, basis[1 - rank]["rng"][SYNC_AT]):
            check(False, f"Rang {rank} hat nach dem Laden den Zufallszustand von Rang {1 - rank}. Unter einem "
                  "gemeinsamen Schlüssel schreibt DCP nur einen Wert für alle Ränge: Jeder Rang braucht seinen "
                  "eigenen Schlüssel (rang-0, rang-1).")
        check(isinstance(rng, torch.Tensor) and torch.equal(rng, basis[rank]["rng"][SYNC_AT]),
              f"Der Zufallszustand von Rang {rank} ist nach dem Laden nicht der beim Speichern.")
    app, _ = saved(distributed_run, SYNC_AT)
    for rank in RANKS:
        expected = basis[rank]["rng"][SYNC_AT]
        holds = key_paths(app.get("rng"), lambda value: isinstance(value, torch.Tensor)
                          and value.shape == expected.shape and torch.equal(value, expected))
        check(holds,
              f"Im Checkpoint schritt-{SYNC_AT:06d} fehlt unter ['app']['rng'] der Zufallszustand von Rang {rank}.")


@pytest.mark.requirement("verteilt_neuester")
def test_load_latest_finds_the_newest_complete_checkpoint(distributed_run):
    for rank in RANKS:
        clean = records(distributed_run, "fortsetzen", "laden", rank)
        check(clean.get("returned") == SYNC_AT and type(clean.get("returned")) is int,
              f"load_latest gibt für einen Ordner mit schritt-{SYNC_AT:06d} {step_value(clean.get('returned'))} "
              f"zurück (Rang {rank}), erwartet {SYNC_AT}.")
        found = records(distributed_run, "fortsetzen", "neuester", rank)
        check(found.get("returned") == SYNC_AT and found.get("step") == SYNC_AT,
              f"Neben schritt-{SYNC_AT:06d} liegen ein unfertiger Checkpoint schritt-000009 (ohne .metadata), eine "
              f"Datei schritt-000011 und notizen.txt: load_latest gab {step_value(found.get('returned'))} zurück und "
              f"state.step ist {step_value(found.get('step'))} (Rang {rank}), erwartet beide Male {SYNC_AT}.")
        for name, situation in (("leer", "einem leeren Ordner"), ("fehlt", "einem Ordner, den es nicht gibt")):
            case = found.get(name) or {}
            check(case.get("returned") == 0 and type(case.get("returned")) is int,
                  f"load_latest mit {situation} gibt {step_value(case.get('returned'))} zurück (Rang {rank}), "
                  "erwartet 0.")
            if rank == 0:
                diffs = differences(case.get("before"), case.get("after"), "Zustand")
                check(not diffs, f"load_latest mit {situation} hat den Zustand verändert: {summary(diffs)}.")


@pytest.mark.requirement("verteilt_umverteilen")
def test_one_process_loads_the_two_ranks_checkpoint(distributed_run, basis):
    observation = runs(distributed_run)
    check("fortsetzen" in observation, "Nicht geprüft: Nach dem Training fehlt ein vollständiger Checkpoint "
          f"schritt-{SYNC_AT:06d}. " + how_it_failed(observation["training"], "training"), "abbruch")
    check("raised" not in (observation.get("einzeln") or {}),
          "In einem einzelnen Prozess ohne Prozessgruppe scheiterte load_latest: "
          + error_text((observation.get("einzeln") or {}).get("raised") or {}))
    try:
        single = load_untrusted(distributed_run.folder, "rang-einzeln.pt")
    except Exception:
        single = None
    check(isinstance(single, dict), "Der einzelne Prozess hinterließ kein Ergebnis.", "abbruch")
    check(single.get("returned") == SYNC_AT, f"load_latest gab im einzelnen Prozess {step_value(single.get('returned'))} "
          f"zurück, erwartet {SYNC_AT}.")
    diffs = differences(basis[0]["full"][SYNC_AT], single.get("full"), "Zustand")
    check(not diffs, "Ein einzelner Prozess ohne Prozessgruppe lud den Checkpoint der zwei Ränge in ein nicht "
          f"verteiltes Modell, aber der Zustand weicht ab: {summary(diffs)}.")


@pytest.mark.requirement("verteilt_umwandeln")
def test_conversion_loads_with_weights_only(distributed_run, basis):
    observation = runs(distributed_run)
    check("fortsetzen" in observation, "Nicht geprüft: Nach dem Training fehlt ein vollständiger Checkpoint "
          f"schritt-{SYNC_AT:06d}. " + how_it_failed(observation["training"], "training"), "abbruch")
    check("umwandeln_error" not in observation, "dcp_to_torch_save scheiterte an Ihrem Checkpoint: "
          + error_text(observation.get("umwandeln_error") or {}))
    try:
        data = load_untrusted(distributed_run.folder, "umgewandelt.pt")
    except Exception as error:
        refused = rejected_global(str(error))
        reason = (f"Darin steht {refused}, das weights_only nicht erlaubt" if refused
                  else f"{type(error).__name__}: {str(error).splitlines()[0][:300] if str(error) else ''}")
        check(False, f"torch.load(..., weights_only=True) lehnt die mit dcp_to_torch_save umgewandelte Datei ab. "
              f"{reason}. Speichern Sie nur Tensoren und einfache Python-Werte (etwa keinen NumPy-Zustand, keine "
              "eigenen Klassen).")
    app = data.get("app") if isinstance(data, dict) else None
    model = app.get("model") if isinstance(app, dict) else None
    diffs = differences(basis[0]["full"][SYNC_AT]["model"], model, "['app']['model']")
    check(not diffs, f"Die umgewandelte Datei enthält unter ['app']['model'] nicht die Gewichte: {summary(diffs)}.")
    _, refused = saved(distributed_run, SYNC_AT)
    check(not refused, f"Im Checkpoint schritt-{SYNC_AT:06d} lehnt torch.load mit weights_only=True diese Einträge "
          "ab: " + "; ".join(f"{key} ({reason})" for key, reason in sorted(refused.items())[:3]) + ".")


@pytest.mark.requirement("verteilt_async_warten")
def test_background_save_waits_for_the_previous(distributed_run):
    for rank, recorded in zip(RANKS, training_reached(distributed_run, CRASH_AT)):
        calls = recorded.get("calls") or []
        steps = [call.get("step") for call in calls]
        check(all(step in steps for step in ASYNC_AT), f"save_checkpoint_async rief nach den Schritten {ASYNC_AT[0]} "
              f"und {ASYNC_AT[1]} nicht jeweils dcp.async_save auf (Rang {rank}).")
        late = [call["step"] for call in calls if call.get("in_flight")]
        check(not late, f"save_checkpoint_async nach Schritt {late[0] if late else '?'} startete eine Speicherung, "
              f"während die vorige noch lief (Rang {rank}): Warten Sie zuerst mit previous.result() auf sie.")
        shared = [call["step"] for call in calls if call.get("own_group") is False]
        check(not shared, f"save_checkpoint_async nach Schritt {shared[0] if shared else '?'} übergab dcp.async_save "
              f"nicht die eigene Gruppe process_group (Rang {rank}): Dann laufen die Nachrichten des Speicherns im "
              "Hintergrund über dieselbe Gruppe wie die des Trainings, und beide können sich verheddern.")
        returned = recorded.get("returned") or {}
        check(all(returned.get(step) is True for step in ASYNC_AT),
              f"save_checkpoint_async gibt nicht das Future von dcp.async_save zurück (Rang {rank}).")


@pytest.mark.requirement("verteilt_async_absturz")
def test_crash_during_background_save_leaves_the_previous(distributed_run, basis):
    previous = ASYNC_AT[-1]
    for rank, recorded in zip(RANKS, training_reached(distributed_run, CRASH_AT)):
        check(recorded.get("crash_written") is True,
              f"Die Speicherung nach Schritt {CRASH_AT} schrieb auf Rang {rank} innerhalb von 60 s keine Daten; "
              "der Absturz währenddessen ließ sich nicht prüfen.")
        loaded = records(distributed_run, "fortsetzen", "absturz", rank)
        check(loaded.get("returned") == previous and loaded.get("step") == previous,
              f"Das Training starb, während die Speicherung nach Schritt {CRASH_AT} lief. load_latest gab danach "
              f"{step_value(loaded.get('returned'))} zurück und state.step ist {step_value(loaded.get('step'))} "
              f"(Rang {rank}); erwartet beide Male {previous}: der vorige, vollständige Checkpoint.")
    loaded = records(distributed_run, "fortsetzen", "absturz", 0)
    diffs = differences(basis[0]["full"][previous]["model"], (loaded.get("full") or {}).get("model"), "Modell")
    check(not diffs, f"Nach dem Absturz lud load_latest nicht die Gewichte von Schritt {previous}: {summary(diffs)}. "
          "Schreibt jede Speicherung in einen eigenen Ordner?")
    app, _ = saved(distributed_run, previous)
    diffs = differences(basis[0]["full"][previous]["model"], app.get("model"), "['app']['model']")
    check(not diffs, f"Im Checkpoint schritt-{previous:06d} stehen nicht die Gewichte nach Schritt {previous}: "
          f"{summary(diffs)}.")
