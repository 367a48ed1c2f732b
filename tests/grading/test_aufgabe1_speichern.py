"""Aufgabe 1: save_checkpoint. The file the submission wrote is judged here, on the trusted side."""

import pytest

from grader.client import read_untrusted
from grader.text import first_line, quote
from grader.scenarios import SAVED_EPOCH, fresh_pair
from tests.grading.support import (
    Failure,
    check,
    differences,
    error_text,
    observed,
    raised,
    read_content,
    refusal,
    summary,
    with_hint,
)

KEYS = ("epoch", "model_state_dict", "optimizer_state_dict")
# How the file name is passed, and where the file must appear in the probe's working directory.
FORMS = {
    "relativ": ("filename='mein_stand.pt'", "mein_stand.pt"),
    "absolut": ("filename='/…/ziel/mein_stand.pt' (ein absoluter Pfad)", "ziel/mein_stand.pt"),
    "pathlib": ("filename=Path('mein_stand.pt')", "mein_stand.pt"),
    "standard": ("", "checkpoint.pth"),
}
PROBE_FILES = {"beobachtung.pt", "ausgabe.txt", "import.txt", "phase"}


@pytest.fixture(scope="session")
def saves(worker):
    """One call of save_checkpoint per form of the file name, each in a fresh process."""
    pending = {form: worker.start("save", "checkpoints", args={"how": form}) for form in FORMS}
    return {form: handle.result() for form, handle in pending.items()}


def new_files(folder):
    """Files the submission created in a probe's folder (relative names)."""
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*")
                  if path.is_file() and not path.is_symlink() and path.name not in PROBE_FILES)


def expect_file(outcome, form):
    """The path of the file written in ``form``; a Failure names what happened instead."""
    call_text, target = FORMS[form]
    call = observed(outcome, "in save_checkpoint")["call"]
    error = raised(call)
    path = outcome.folder / target
    if error:
        raise Failure(with_hint(f"save_checkpoint({call_text}) löste {error_text(error)} aus. Erwartet: Die "
                                "Funktion schreibt die Datei und kehrt normal zurück.", error))
    if path.is_file() and not path.is_symlink():
        return path
    found = [name for name in new_files(outcome.folder) if name != target]
    elsewhere = f" Gefunden wurde stattdessen {', '.join(repr(name) for name in found[:3])}." if found else \
        " Es entstand überhaupt keine Datei."
    expectation = ("der Standardwert filename='checkpoint.pth', gespeichert im Arbeitsverzeichnis"
                   if form == "standard" else "die Datei entsteht genau unter dem übergebenen Namen")
    raise Failure(f"Nach save_checkpoint({call_text}) gibt es keine Datei {target!r}.{elsewhere} "
                  f"Erwartet: {expectation}.")


@pytest.mark.requirement("speichern_datei")
@pytest.mark.parametrize("form", ["relativ", "absolut", "pathlib"])
def test_file_appears_under_given_name(saves, form):
    expect_file(saves[form], form)


@pytest.mark.requirement("speichern_standardname")
def test_default_name_in_working_directory(saves):
    expect_file(saves["standard"], "standard")


@pytest.fixture(scope="session")
def saved(saves):
    """The first file the submission wrote under the given name, read here: its bytes, its content
    (None if unreadable), why ``weights_only`` refused it (or None), and the probe's description of it."""
    for form in FORMS:  # the default name last: a file name that was ignored costs only its requirement
        try:
            expect_file(saves[form], form)
        except Failure as failure:
            if failure.cause != "anforderung":
                raise
            continue
        data = read_untrusted(saves[form].folder, FORMS[form][1])
        return (data, *read_content(data), saves[form].observation.get("content"))
    raise Failure("save_checkpoint hat in keinem Aufruf eine Datei unter dem übergebenen Namen angelegt; ihr "
                  "Inhalt lässt sich daher nicht prüfen (Folgefehler, siehe „Die Datei entsteht unter dem "
                  "angegebenen Namen“).")


@pytest.fixture(scope="session")
def expected(trained):
    return trained[2], trained[3]


def readable(saved):
    _, content, refused, described = saved
    check(content is not None, f"Die Datei lässt sich mit torch.load(..., weights_only=True) nicht lesen: "
                               f"{refusal(str(refused), described)} Daher lässt sich ihr Inhalt nicht prüfen "
                               "(Folgefehler, siehe „Dictionary mit den drei Schlüsseln“).")
    check(isinstance(content, dict), f"Gespeichert wurde {quote(content, 80)}, erwartet ein Dictionary.")
    return content


def entry(saved, key):
    checkpoint = readable(saved)
    check(key in checkpoint, f"Im Checkpoint fehlt der Schlüssel {key!r}.")
    return checkpoint[key]


@pytest.mark.requirement("speichern_format")
def test_loads_safely_as_dict_with_three_keys(saved):
    _, _, refused, described = saved
    check(refused is None, f"Die Datei lässt sich nicht mit torch.load(..., weights_only=True) laden: "
                           f"{refusal(str(refused), described)} Erwartet: ein Dictionary aus state_dicts und "
                           "einfachen Werten, nicht das ganze Modell oder der ganze Optimierer.")
    checkpoint = readable(saved)
    missing = [key for key in KEYS if key not in checkpoint]
    check(not missing, f"Im gespeicherten Dictionary fehlen die Schlüssel {', '.join(map(repr, missing))}.")


def expect_saved_state(saved, key, expected, source, expectation):
    diffs = differences(expected, entry(saved, key), key)
    check(not diffs, f"Der Eintrag {key!r} im Checkpoint stimmt nicht mit {source} überein: {summary(diffs)}. "
                     f"Erwartet: {expectation}.")


@pytest.mark.requirement("speichern_modell")
def test_model_state_complete_with_buffers(saved, expected):
    expect_saved_state(saved, "model_state_dict", expected[0], "model.state_dict()",
                       "alle Parameter und Buffer (z. B. die laufenden Statistiken von BatchNorm)")


@pytest.mark.requirement("speichern_optimierer")
def test_optimizer_state_complete(saved, expected):
    expect_saved_state(saved, "optimizer_state_dict", expected[1], "optimizer.state_dict()",
                       "'state' (z. B. die Momente von Adam) und 'param_groups' (z. B. die Lernrate)")


@pytest.mark.requirement("speichern_epoche")
def test_epoch_saved_unchanged(saved):
    epoch = entry(saved, "epoch")
    check(type(epoch) is int and epoch == SAVED_EPOCH,
          f"Unter 'epoch' steht {quote(epoch, 80)}, übergeben wurde epoch={SAVED_EPOCH}. "
          "Erwartet: die übergebene Epoche unverändert als int.")


@pytest.mark.requirement("speichern_kompatibel")
def test_reference_can_load_the_file(saved, reference, expected, tmp_path, capsys):
    readable(saved)
    path = tmp_path / "abgabe.pth"  # a trusted copy: the reference never opens a path of the sandbox
    path.write_bytes(saved[0])
    model, optimizer = fresh_pair()
    reference.load_checkpoint(model, optimizer, filename=str(path))
    said = first_line(capsys.readouterr().out, 200)  # the reference names why it refused the file
    check(not differences(expected[0], model.state_dict()),
          f"Die Musterlösung kann Ihren Checkpoint nicht laden („{said}“). Erwartet: ein Dictionary mit "
          "mindestens den Schlüsseln 'epoch', 'model_state_dict' und 'optimizer_state_dict', ladbar mit "
          "weights_only=True.")
