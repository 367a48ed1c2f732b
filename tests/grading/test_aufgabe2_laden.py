"""Aufgabe 2: load_checkpoint. The files are written here by the reference or by torch.save, so that a
broken save_checkpoint never hides the points of load_checkpoint; the submission loads them in the
sandbox, and the state of the passed objects afterwards is judged here."""

import io

import pytest
import torch

from grader.scenarios import FRESH_LR, SAVED_EPOCH, TRAINED_LR, CreatesMarker, trained_pair, training_step
from tests.grading.support import (
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
    returned,
    summary,
    with_hint,
)

FORMS = {"relativ": "stand.pth", "absolut": "ziel/stand.pth", "pathlib": "stand.pth", "standard": "checkpoint.pth"}
FORM_NAMES = {"relativ": "mit relativem Dateinamen", "absolut": "mit absolutem Pfad", "pathlib": "mit pathlib.Path"}


def checkpoint_bytes(model, optimizer, epoch=SAVED_EPOCH, drop=None, optimizer_state=None):
    checkpoint = {"epoch": epoch, "model_state_dict": model.state_dict(),
                  "optimizer_state_dict": optimizer_state or optimizer.state_dict()}
    checkpoint.pop(drop, None)
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def restored(worker, reference_file):
    """The reference's checkpoint loaded by the submission into a fresh pair (other seed, other lr)."""
    pending = {form: worker.start("load", "checkpoints", args={"how": form, "name": "stand.pth"},
                                  files={name: reference_file})
               for form, name in FORMS.items()}
    return {form: handle.result() for form, handle in pending.items()}


def state_after(outcome, what="model"):
    observation = observed(outcome, "in load_checkpoint")
    raised(observation["call"])  # a stub ends here; any other exception: the state is judged anyway
    check(what in observation, f"Der Zustand des übergebenen {'Modells' if what == 'model' else 'Optimierers'} "
                               f"ließ sich nach dem Laden nicht auslesen: {error_text(observation.get(what + '_error'))}.")
    return observation


@pytest.mark.requirement("laden_epoche")
def test_returns_saved_epoch_as_int(restored):
    call = observed(restored["relativ"], "in load_checkpoint")["call"]
    error = raised(call)
    check(not error, f"load_checkpoint löste {error_text(error)} aus, statt die Epoche zurückzugeben.")
    value = returned(call)
    check(value["type"] == "int" and value["int"] == SAVED_EPOCH,
          f"load_checkpoint gibt {describe_return(value)} zurück, gespeichert war epoch={SAVED_EPOCH}. "
          "Erwartet: genau die gespeicherte Epoche als int, kein Tupel und kein Dictionary.")


@pytest.mark.requirement("laden_modell")
@pytest.mark.parametrize("form", ["relativ", "absolut", "pathlib"])
def test_restores_parameters_and_buffers_in_place(restored, trained, form):
    observation = state_after(restored[form])
    diffs = differences(trained[2], observation["model"], "model.state_dict()")
    check(not diffs, f"Das übergebene Modell hat nach dem Laden ({FORM_NAMES[form]}) nicht den gespeicherten "
                     f"Zustand: {summary(diffs)}. Erwartet: model.load_state_dict(...) auf genau dem übergebenen "
                     "Modell, mit Parametern und Buffern.")


@pytest.mark.requirement("laden_optimierer")
def test_restores_optimizer_state_in_place(restored, trained):
    observation = state_after(restored["relativ"], "optimizer")
    diffs = differences(trained[3], observation["optimizer"], "optimizer.state_dict()")
    check(not diffs, f"Der übergebene Optimierer hat nach dem Laden nicht den gespeicherten Zustand: "
                     f"{summary(diffs)}. Erwartet: optimizer.load_state_dict(...) auf genau dem übergebenen "
                     f"Optimierer (z. B. die Lernrate {TRAINED_LR} statt {FRESH_LR} und die Momente von Adam).")
    model, optimizer = trained_pair()
    training_step(model, optimizer)
    if differences(trained[2], observation["model"]):
        return  # the model was not restored: charged to laden_modell, the next step cannot match
    check("after_step" in observation and not differences(model.state_dict(), observation["after_step"]),
          "Nach dem Laden führt ein weiterer Trainingsschritt zu anderen Gewichten als ohne Unterbrechung. "
          "Erwartet: Modell und Optimierer setzen das Training genau dort fort, wo es gespeichert wurde.")


@pytest.mark.requirement("laden_standardname")
def test_default_name_in_working_directory(restored, trained):
    observation = state_after(restored["standard"])
    value = returned(observation["call"]) or {}
    read_the_file = value.get("type") == "int" and value.get("int") == SAVED_EPOCH
    check(read_the_file or not differences(trained[2], observation["model"]),
          "Ohne Dateinamen aufgerufen, lädt load_checkpoint nicht 'checkpoint.pth' aus dem Arbeitsverzeichnis. "
          "Erwartet: der Standardwert filename='checkpoint.pth'.")


def expect_fresh_start(outcome, situation):
    """The contract for every unusable file: the int 0, a message, no escaping exception, usable objects."""
    observation = observed(outcome, f"in load_checkpoint bei {situation}")
    call = observation["call"]
    error = raised(call)
    check(not error, with_hint(f"Bei {situation} hat load_checkpoint die Ausnahme {error_text(error)} nicht "
                               "abgefangen. Erwartet: eine Meldung und die Rückgabe 0, damit das Training von vorn "
                               "beginnt.", error))
    value = returned(call)
    said = f" (Ihre Meldung: „{printed(outcome)}“)" if printed(outcome) else ""
    check(value["type"] == "int" and value["int"] == 0,
          f"Bei {situation} gibt load_checkpoint {describe_return(value)} zurück{said}. "
          "Erwartet: die Zahl 0, damit das Training bei Epoche 0 beginnt.")
    check(printed(outcome) != "", f"Bei {situation} gibt load_checkpoint keine Meldung aus. Erwartet: ein Hinweis "
                                  "(print, sys.stderr oder logging), dass das Training von vorn beginnt.")
    check("step_error" not in observation,
          f"Nach load_checkpoint mit {situation} (Rückgabe 0) scheitert ein Trainingsschritt mit dem übergebenen "
          f"Modell und Optimierer ({error_text(observation.get('step_error'))}). "
          "Erwartet: Beide bleiben benutzbar – erst prüfen, ob das Modell zum Checkpoint passt, dann den "
          "Optimierer laden.")


@pytest.mark.requirement("laden_fehlende_datei")
def test_missing_file(worker):
    expect_fresh_start(worker.run("load", "checkpoints", args={"name": "gibt_es_nicht.pth"}), "einer fehlenden Datei")


def unusable_files(reference_file, model, optimizer):
    return {
        **broken_files(reference_file),
        "einem Checkpoint ohne 'model_state_dict'": checkpoint_bytes(model, optimizer, drop="model_state_dict"),
        "einem Checkpoint ohne 'optimizer_state_dict'": checkpoint_bytes(model, optimizer, drop="optimizer_state_dict"),
        "einem Checkpoint ohne 'epoch'": checkpoint_bytes(model, optimizer, drop="epoch"),
    }


def foreign_files(model, optimizer):
    other_group = torch.optim.Adam(list(model.parameters())[:2], lr=TRAINED_LR)
    return {
        "einem Checkpoint eines Modells mit anderen Tensorgrößen": checkpoint_bytes(*trained_pair(hidden=16)),
        "einem Checkpoint eines Modells mit anderen Schlüsselnamen": checkpoint_bytes(*trained_pair(named=True)),
        "einem Checkpoint eines Modells mit gleich vielen, aber anders geformten Tensoren":
            checkpoint_bytes(*trained_pair(inputs=5)),
        "einem Checkpoint, dessen Modellteil passt, dessen Optimiererteil aber zu anderen Parametern gehört":
            checkpoint_bytes(model, optimizer, optimizer_state=other_group.state_dict()),
    }


UNUSABLE = ("einer leeren Datei", "einer abgeschnittenen Datei", "einer Datei mit Zufallsbytes", "einer Textdatei",
            "einer Datei mit einer Liste statt eines Dictionarys", "einem Checkpoint ohne 'model_state_dict'",
            "einem Checkpoint ohne 'optimizer_state_dict'", "einem Checkpoint ohne 'epoch'")
FOREIGN = ("einem Checkpoint eines Modells mit anderen Tensorgrößen",
           "einem Checkpoint eines Modells mit anderen Schlüsselnamen",
           "einem Checkpoint eines Modells mit gleich vielen, aber anders geformten Tensoren",
           "einem Checkpoint, dessen Modellteil passt, dessen Optimiererteil aber zu anderen Parametern gehört")


@pytest.fixture(scope="session")
def fresh_starts(worker, reference_file, trained):
    """Every unusable and every foreign file, loaded by the submission, each in a fresh process."""
    files = {**unusable_files(reference_file, *trained[:2]), **foreign_files(*trained[:2])}
    assert set(files) == {*UNUSABLE, *FOREIGN}
    pending = {situation: worker.start("load", "checkpoints", files={"kaputt.pth": data}, args={"name": "kaputt.pth"})
               for situation, data in files.items()}
    return {situation: handle.result() for situation, handle in pending.items()}


@pytest.mark.requirement("laden_unbrauchbare_datei")
@pytest.mark.parametrize("situation", UNUSABLE)
def test_unusable_file(fresh_starts, situation):
    expect_fresh_start(fresh_starts[situation], situation)


@pytest.mark.requirement("laden_andere_architektur")
@pytest.mark.parametrize("situation", FOREIGN)
def test_checkpoint_of_other_architecture(fresh_starts, situation):
    expect_fresh_start(fresh_starts[situation], situation)


def crafted_file(trained, **entries):
    buffer = io.BytesIO()
    torch.save({"epoch": CreatesMarker(), "model_state_dict": trained[0].state_dict(),
                "optimizer_state_dict": trained[1].state_dict(), **entries}, buffer)
    return buffer.getvalue()


@pytest.mark.requirement("laden_sicher")
def test_crafted_file_runs_no_code(worker, trained):
    # Where torch's default is unsafe (TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD, older torch), only an explicit
    # weights_only=True keeps the code from running.
    outcome = worker.run("load", "checkpoints", files={"manipuliert.pth": crafted_file(trained)},
                         args={"name": "manipuliert.pth", "step_after": False},
                         env={"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"})
    expect_no_code_ran(outcome, "load_checkpoint")


@pytest.mark.requirement("laden_unterbrechung")
@pytest.mark.parametrize("kind", ["KeyboardInterrupt", "SystemExit"])
def test_interrupt_while_loading_propagates(worker, reference_file, kind):
    outcome = worker.run("load", "checkpoints", files={"stand.pth": reference_file},
                         args={"interrupt": kind, "step_after": False})
    expect_interrupt_propagates(outcome, "load_checkpoint", kind)
