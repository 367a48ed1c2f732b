"""Aufgabe 2: load_checkpoint. The files are written by the reference or by torch.save directly,
so that a broken save_checkpoint never hides the points of load_checkpoint."""

import os

import pytest
import torch

from tests.grading.support import (
    FRESH_LR,
    SAVED_EPOCH,
    TRAINED_LR,
    check,
    exits_contained,
    describe_return,
    differences,
    fresh_pair,
    call_without_escape,
    snapshot,
    summary,
    trained_pair,
    training_step,
)


@pytest.fixture
def checkpoint_file(reference, in_tmp_dir):
    """A checkpoint of a trained pair written by the reference, and the pair itself."""
    model, optimizer = trained_pair()
    path = in_tmp_dir / "stand.pth"
    reference.save_checkpoint(model, optimizer, SAVED_EPOCH, filename=str(path))
    return path, model, optimizer


@pytest.fixture
def restored(submission, checkpoint_file, capfd):
    """Load the reference's checkpoint into a fresh pair (other seed, other lr) with the submission."""
    path, model, optimizer = checkpoint_file
    expected_model, expected_optimizer = snapshot(model), snapshot(optimizer)
    target_model, target_optimizer = fresh_pair()
    with exits_contained():
        result = submission.load_checkpoint(target_model, target_optimizer, filename=str(path))
    capfd.readouterr()
    return result, target_model, target_optimizer, expected_model, expected_optimizer, (model, optimizer)


@pytest.mark.requirement("laden_epoche")
def test_returns_saved_epoch_as_int(restored):
    result = restored[0]
    check(
        type(result) is int and result == SAVED_EPOCH,
        f"load_checkpoint gibt {describe_return(result)} zurück, gespeichert war epoch={SAVED_EPOCH}. "
        "Erwartet: genau die gespeicherte Epoche als int, kein Tupel und kein Dictionary.",
    )


@pytest.mark.requirement("laden_modell")
def test_restores_parameters_and_buffers_in_place(restored):
    _, target_model, _, expected_model, _, _ = restored
    diffs = differences(expected_model, target_model.state_dict(), "model.state_dict()")
    check(
        not diffs,
        f"Das übergebene Modell hat nach dem Laden nicht den gespeicherten Zustand: {summary(diffs)}. "
        "Erwartet: model.load_state_dict(...) auf genau dem übergebenen Modell, mit Parametern und Buffern.",
    )


@pytest.mark.requirement("laden_optimierer")
def test_restores_optimizer_state_in_place(restored):
    _, target_model, target_optimizer, _, expected_optimizer, (model, optimizer) = restored
    diffs = differences(expected_optimizer, target_optimizer.state_dict(), "optimizer.state_dict()")
    check(
        not diffs,
        f"Der übergebene Optimierer hat nach dem Laden nicht den gespeicherten Zustand: {summary(diffs)}. "
        "Erwartet: optimizer.load_state_dict(...) auf genau dem übergebenen Optimierer "
        f"(z. B. die Lernrate {TRAINED_LR} statt {FRESH_LR} und die Momente von Adam).",
    )
    # One more step on both pairs must give bitwise the same weights: the state is really in use.
    training_step(model, optimizer, seed=999)
    training_step(target_model, target_optimizer, seed=999)
    check(
        not differences(model.state_dict(), target_model.state_dict()),
        "Nach dem Laden führt ein weiterer Trainingsschritt zu anderen Gewichten als ohne Unterbrechung. "
        "Erwartet: Modell und Optimierer setzen das Training genau dort fort, wo es gespeichert wurde.",
    )


@pytest.mark.requirement("laden_standardname")
def test_default_name_in_working_directory(submission, reference, in_tmp_dir, capfd):
    model, optimizer = trained_pair()
    reference.save_checkpoint(model, optimizer, SAVED_EPOCH, filename="checkpoint.pth")
    result = submission.load_checkpoint(*fresh_pair())
    capfd.readouterr()
    check(
        result == SAVED_EPOCH,
        f"Ohne Dateinamen aufgerufen, gibt load_checkpoint {describe_return(result)} zurück, obwohl "
        f"'checkpoint.pth' mit epoch={SAVED_EPOCH} im Arbeitsverzeichnis liegt. "
        "Erwartet: der Standardwert filename='checkpoint.pth'.",
    )


def expect_fresh_start(submission, messages, path, situation):
    """The contract for every unusable file: a message, the int 0, no escaping exception."""
    result = call_without_escape(submission.load_checkpoint, situation, "die Rückgabe 0", *fresh_pair(), filename=str(path))
    check(
        type(result) is int and result == 0,
        f"Bei {situation} gibt load_checkpoint {describe_return(result)} zurück. "
        "Erwartet: die Zahl 0, damit das Training bei Epoche 0 beginnt.",
    )
    check(
        messages.text() != "",
        f"Bei {situation} gibt load_checkpoint keine Meldung aus. Erwartet: ein Hinweis "
        "(print, sys.stderr oder logging), dass das Training von vorn beginnt.",
    )


@pytest.mark.requirement("laden_fehlende_datei")
def test_missing_file(submission, messages, in_tmp_dir):
    expect_fresh_start(submission, messages, in_tmp_dir / "gibt_es_nicht.pth", "einer fehlenden Datei")


def write_empty(path, reference):
    path.write_bytes(b"")


def write_truncated(path, reference):
    reference.save_checkpoint(*trained_pair(), SAVED_EPOCH, filename=str(path))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def write_garbage(path, reference):
    path.write_bytes(bytes(range(256)) * 8)


def write_text(path, reference):
    path.write_text("Das ist kein Checkpoint, sondern eine Textdatei.\n", encoding="utf-8")


def write_list(path, reference):
    torch.save([1, 2, 3], path)


def write_tensor(path, reference):
    torch.save(torch.zeros(3), path)


def write_without(key):
    def writer(path, reference):
        model, optimizer = trained_pair()
        checkpoint = {
            "epoch": SAVED_EPOCH,
            "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(),
        }
        del checkpoint[key]
        torch.save(checkpoint, path)

    return writer


UNUSABLE_FILES = {
    "einer leeren Datei": write_empty,
    "einer abgeschnittenen Datei": write_truncated,
    "einer Datei mit Zufallsbytes": write_garbage,
    "einer Textdatei": write_text,
    "einer Datei mit einer Liste statt eines Dictionarys": write_list,
    "einer Datei mit einem Tensor statt eines Dictionarys": write_tensor,
    "einem Checkpoint ohne 'model_state_dict'": write_without("model_state_dict"),
    "einem Checkpoint ohne 'optimizer_state_dict'": write_without("optimizer_state_dict"),
    "einem Checkpoint ohne 'epoch'": write_without("epoch"),
}


@pytest.mark.requirement("laden_unbrauchbare_datei")
@pytest.mark.parametrize("situation", UNUSABLE_FILES)
def test_unusable_file(submission, reference, messages, in_tmp_dir, situation):
    path = in_tmp_dir / "kaputt.pth"
    UNUSABLE_FILES[situation](path, reference)
    messages.text()  # what the reference printed while writing does not count
    expect_fresh_start(submission, messages, path, situation)


OTHER_ARCHITECTURES = {
    "einem Checkpoint eines Modells mit anderen Tensorgrößen": dict(hidden=16),
    "einem Checkpoint eines Modells mit anderen Schlüsselnamen": dict(named=True),
}


@pytest.mark.requirement("laden_andere_architektur")
@pytest.mark.parametrize("situation", OTHER_ARCHITECTURES)
def test_checkpoint_of_other_architecture(submission, reference, messages, in_tmp_dir, situation):
    path = in_tmp_dir / "fremd.pth"
    reference.save_checkpoint(*trained_pair(**OTHER_ARCHITECTURES[situation]), SAVED_EPOCH, filename=str(path))
    messages.text()
    expect_fresh_start(submission, messages, path, situation)


class CreatesMarker:
    """Unpickling this object calls os.mkdir: code that runs while loading."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


@pytest.mark.requirement("laden_sicher")
def test_crafted_file_runs_no_code(submission, messages, in_tmp_dir):
    marker = in_tmp_dir / "schadcode_wurde_ausgefuehrt"
    path = in_tmp_dir / "manipuliert.pth"
    model, optimizer = trained_pair()
    torch.save(
        {
            "epoch": CreatesMarker(marker),
            "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(),
        },
        path,
    )
    call_without_escape(submission.load_checkpoint, "einer manipulierten Datei", "die Rückgabe 0", *fresh_pair(),
                        filename=str(path))
    check(
        not marker.exists(),
        "Beim Laden einer manipulierten Datei wurde darin versteckter Code ausgeführt. "
        "Erwartet: torch.load(..., weights_only=True), das nur Tensoren und einfache Werte entpackt.",
    )
