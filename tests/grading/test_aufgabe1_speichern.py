"""Aufgabe 1: save_checkpoint. Every test checks behaviour, never wording or code shape."""

import pytest
import torch

from tests.grading.support import (
    SAVED_EPOCH,
    check,
    exits_contained,
    differences,
    fresh_pair,
    snapshot,
    summary,
    trained_pair,
)

KEYS = ("epoch", "model_state_dict", "optimizer_state_dict")


def read_safely(path):
    """Read a saved checkpoint the way load_checkpoint must: with weights_only=True."""
    check(path.is_file(), f"save_checkpoint hat keine Datei {path.name!r} angelegt, es gibt nichts zu prüfen.")
    try:
        checkpoint = torch.load(path, weights_only=True)
    except Exception as error:
        check(
            False,
            f"Die Datei lässt sich nicht mit torch.load(..., weights_only=True) laden ({type(error).__name__}). "
            "Erwartet: ein Dictionary aus state_dicts und einfachen Werten, nicht das ganze Modell "
            "oder der ganze Optimierer.",
        )
    check(isinstance(checkpoint, dict), f"Gespeichert wurde ein {type(checkpoint).__name__}, erwartet ein Dictionary.")
    return checkpoint


@pytest.fixture
def saved(submission, in_tmp_dir):
    """The submission's checkpoint of a trained pair, and independent copies of what it must hold."""
    model, optimizer = trained_pair()
    expected_model, expected_optimizer = snapshot(model), snapshot(optimizer)
    path = in_tmp_dir / "stand.pth"
    with exits_contained():
        submission.save_checkpoint(model, optimizer, SAVED_EPOCH, filename=str(path))
    return read_safely(path), expected_model, expected_optimizer


def entry(checkpoint, key):
    check(isinstance(checkpoint, dict) and key in checkpoint, f"Im Checkpoint fehlt der Schlüssel {key!r}.")
    return checkpoint[key]


@pytest.mark.requirement("speichern_datei")
def test_file_appears_under_given_name(submission, in_tmp_dir):
    model, optimizer = trained_pair()
    target = in_tmp_dir / "mein_stand.pt"
    submission.save_checkpoint(model, optimizer, SAVED_EPOCH, filename=str(target))
    check(
        target.is_file(),
        "Nach save_checkpoint(..., filename='mein_stand.pt') gibt es keine Datei 'mein_stand.pt'. "
        "Erwartet: Die Datei entsteht genau unter dem übergebenen Namen.",
    )


@pytest.mark.requirement("speichern_standardname")
def test_default_name_in_working_directory(submission, in_tmp_dir):
    model, optimizer = trained_pair()
    submission.save_checkpoint(model, optimizer, SAVED_EPOCH)
    check(
        (in_tmp_dir / "checkpoint.pth").is_file(),
        "Ohne Dateinamen aufgerufen, legt save_checkpoint keine Datei 'checkpoint.pth' im "
        "Arbeitsverzeichnis an. Erwartet: der Standardwert filename='checkpoint.pth'.",
    )


@pytest.mark.requirement("speichern_format")
def test_loads_safely_as_dict_with_three_keys(saved):
    checkpoint, _, _ = saved
    missing = [key for key in KEYS if key not in checkpoint]
    check(not missing, f"Im gespeicherten Dictionary fehlen die Schlüssel {', '.join(map(repr, missing))}.")


def expect_saved_state(checkpoint, key, expected, source, expectation):
    diffs = differences(expected, entry(checkpoint, key), key)
    check(not diffs, f"Der Eintrag {key!r} im Checkpoint stimmt nicht mit {source} überein: {summary(diffs)}. "
                     f"Erwartet: {expectation}.")


@pytest.mark.requirement("speichern_modell")
def test_model_state_complete_with_buffers(saved):
    checkpoint, expected_model, _ = saved
    expect_saved_state(checkpoint, "model_state_dict", expected_model, "model.state_dict()",
                       "alle Parameter und Buffer (z. B. die laufenden Statistiken von BatchNorm)")


@pytest.mark.requirement("speichern_optimierer")
def test_optimizer_state_complete(saved):
    checkpoint, _, expected_optimizer = saved
    expect_saved_state(checkpoint, "optimizer_state_dict", expected_optimizer, "optimizer.state_dict()",
                       "'state' (z. B. die Momente von Adam) und 'param_groups' (z. B. die Lernrate)")


@pytest.mark.requirement("speichern_epoche")
def test_epoch_saved_unchanged(saved):
    checkpoint, _, _ = saved
    epoch = entry(checkpoint, "epoch")
    check(
        type(epoch) is int and epoch == SAVED_EPOCH,
        f"Unter 'epoch' steht {epoch!r}, übergeben wurde epoch={SAVED_EPOCH}. "
        "Erwartet: die übergebene Epoche unverändert als int.",
    )


@pytest.mark.requirement("speichern_kompatibel")
def test_reference_can_load_the_file(submission, reference, in_tmp_dir, capsys):
    model, optimizer = trained_pair()
    expected = snapshot(model)
    path = in_tmp_dir / "stand.pth"
    submission.save_checkpoint(model, optimizer, SAVED_EPOCH, filename=str(path))
    target_model, target_optimizer = fresh_pair()
    epoch = reference.load_checkpoint(target_model, target_optimizer, filename=str(path))
    capsys.readouterr()
    check(
        epoch == SAVED_EPOCH and not differences(expected, target_model.state_dict()),
        "Die Musterlösung kann Ihren Checkpoint nicht laden. Erwartet: ein Dictionary mit genau den "
        "Schlüsseln 'epoch', 'model_state_dict' und 'optimizer_state_dict' (weitere sind erlaubt).",
    )
