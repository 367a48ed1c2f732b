"""Aufgabe 5: atomic_save. Faults are injected in the sandbox (torch.save writes half the bytes and
then fails like a full disk, or the process is killed; an object that cannot be pickled); the old
file, the new file and every file left behind are judged here."""

import pytest

from grader.client import read_untrusted
from grader.text import describe_exception
from grader.text import german_list
from tests.grading.support import (
    check,
    describe_return,
    differences,
    error_text,
    observed,
    raised,
    read_content,
    returned,
    summary,
    TRAINING_CPU_SECONDS,
)

TARGET = "ziel/stand.pt"
FORMS = {"absolut": "mit absolutem Pfad als str", "relativ": "mit relativem Pfad über eine alte Datei",
         "pathlib": "mit pathlib.Path über eine alte Datei",
         "dateiname": "nur mit einem Dateinamen (ohne Ordner) über eine alte Datei"}
FAULTS = {
    "voll": ("die Platte mitten im Schreiben voll war (OSError: No space left on device)", {"fault": "voll"}),
    "serialisieren": ("sich ein Objekt im Checkpoint nicht speichern ließ", {"pickling": True}),
    "abbruch": ("der Prozess mitten im Schreiben beendet wurde (SIGKILL)", {"fault": "abbruch"}),
}


@pytest.fixture(scope="session")
def saved(worker, robust):
    """Every atomic_save probe at once: three successful forms, three faults, another file system."""
    old = {TARGET: robust["old_file"]}
    pending = {form: worker.start("atomic_save", "robust", args={"how": form}, files=None if form == "absolut" else old)
               for form in FORMS}
    pending.update({fault: worker.start("atomic_save", "robust", args=arguments, files=old)
                    for fault, (_, arguments) in FAULTS.items()})
    pending["anderes_dateisystem"] = worker.start("atomic_save", "robust", args={"other_fs": True}, files=old)
    return {name: handle.result() for name, handle in pending.items()}


def expect_written(outcome, robust, situation):
    observation = observed(outcome, "in atomic_save")
    error = raised(observation["call"])
    check(not error, f"atomic_save {situation} löste {error_text(error)} aus.")
    data = read_untrusted(outcome.folder, TARGET)
    check(data is not None, f"atomic_save {situation} hat keine Datei {TARGET} hinterlassen.")
    content, refused = read_content(data)
    check(refused is None, f"Die Datei von atomic_save {situation} lässt sich nicht mit torch.load(..., "
                           f"weights_only=True) laden: {describe_exception(type(refused).__name__, str(refused))}")
    diffs = differences(robust["checkpoint"], content, "Dateiinhalt")
    check(not diffs, f"Die Datei von atomic_save {situation} enthält nicht das übergebene Objekt: {summary(diffs)}.")


@pytest.mark.requirement("atomar_inhalt")
@pytest.mark.parametrize("form", FORMS)
def test_file_holds_the_object(saved, robust, form):
    expect_written(saved[form], robust, FORMS[form])


def injected(outcome, fault):
    """The observation of a probe with a fault; None if the process was killed as planned."""
    if fault == "abbruch" and outcome.phase == "run" and outcome.report.get("signal") == 9 and not outcome.cpu_exceeded:
        return None
    observation = observed(outcome, "in atomic_save")
    error = raised(observation["call"])
    if fault != "serialisieren":
        check(observation.get("save_called"), "atomic_save hat torch.save nicht aufgerufen; so lässt sich der Fehler "
                                              "beim Schreiben nicht nachstellen. Erwartet: torch.save(obj, datei).")
    if fault == "abbruch":
        check(False, f"atomic_save kehrte zurück ({error_text(error) or 'ohne Fehler'}), obwohl der Prozess beim "
                     "Schreiben beendet werden sollte – wurde torch.save umgangen?")
    return observation


@pytest.mark.requirement("atomar_alte_datei")
@pytest.mark.parametrize("fault", FAULTS)
def test_old_file_survives_a_failed_write(saved, robust, fault):
    outcome = saved[fault]
    injected(outcome, fault)
    data = read_untrusted(outcome.folder, TARGET)
    situation = FAULTS[fault][0]
    check(data is not None, f"Nachdem {situation}, fehlt die alte Datei {TARGET}. Erwartet: Sie bleibt, bis die neue "
                            "vollständig geschrieben ist (erst schreiben, dann os.replace).")
    check(data == robust["old_file"], f"Nachdem {situation}, ist die alte Datei {TARGET} verändert "
                                      f"({len(data)} statt {len(robust['old_file'])} Bytes). Erwartet: Die neue Datei "
                                      "entsteht unter einem anderen Namen im selben Ordner und ersetzt die alte erst "
                                      "mit os.replace, wenn sie vollständig ist.")


def leftovers(outcome):
    """Files in the target's folder and in the temporary folder other than the target itself."""
    found = []
    for folder in ("ziel", "tmp"):
        base = outcome.folder / folder
        if base.is_dir() and not base.is_symlink():
            found += [str(path.relative_to(outcome.folder)) for path in base.rglob("*") if str(path.relative_to(outcome.folder)) != TARGET]
    return sorted(found)


@pytest.mark.requirement("atomar_aufraeumen")
@pytest.mark.parametrize("case", ["absolut", "voll", "serialisieren"])
def test_no_temporary_file_is_left(saved, case):
    outcome = saved[case]
    if case == "absolut":
        raised(observed(outcome, "in atomic_save")["call"])
    else:
        injected(outcome, case)
    left = leftovers(outcome)
    situation = "Nach dem Speichern" if case == "absolut" else f"Nachdem {FAULTS[case][0]},"
    check(not left, f"{situation} lässt atomic_save {german_list(left[:3])} zurück. Erwartet: Die temporäre Datei "
                    "wird umbenannt oder, wenn etwas scheitert, gelöscht (try/except mit os.remove und raise).")


@pytest.mark.requirement("atomar_fehler_weitergeben")
@pytest.mark.parametrize("fault", ["voll", "serialisieren"])
def test_error_reaches_the_caller(saved, fault):
    observation = injected(saved[fault], fault)
    value = returned(observation["call"])
    check(value is None, f"atomic_save gab {describe_return(value) if value else 'nichts'} zurück, nachdem "
                         f"{FAULTS[fault][0]}. Erwartet: Die Ausnahme wird weitergegeben (raise), damit das Training "
                         "weiß, dass nicht gespeichert wurde.")


@pytest.mark.requirement("atomar_anderes_dateisystem")
def test_target_on_another_file_system(saved, robust):
    outcome = saved["anderes_dateisystem"]
    observation = observed(outcome, "in atomic_save")
    check(not observation.get("no_other_fs"), "Auf diesem Rechner gibt es kein zweites Dateisystem für diese Prüfung.",
          cause="intern")
    error = raised(observation["call"])
    check(not error, f"Liegt der temporäre Ordner ($TMPDIR) auf einem anderen Dateisystem als das Ziel, löst "
                     f"atomic_save {error_text(error)} aus. Erwartet: die temporäre Datei im Ordner des Ziels "
                     "anlegen (tempfile.mkstemp(dir=...)), denn os.replace verschiebt nicht zwischen Dateisystemen.")
    expect_written(outcome, robust, "mit dem temporären Ordner auf einem anderen Dateisystem")
    elsewhere = observation.get("elsewhere")
    moved = [path for path in observation.get("saved_to") or [] if isinstance(path, str) and isinstance(elsewhere, str)
             and path.startswith(elsewhere.rstrip("/") + "/")]
    check(not moved, "atomic_save schreibt die temporäre Datei in den temporären Ordner ($TMPDIR), der auf einem "
                     "anderen Dateisystem liegt als das Ziel; von dort lässt sie sich nur kopieren (so macht es "
                     "shutil.move), und ein Abbruch dabei zerstört die alte Datei. Erwartet: die temporäre Datei im "
                     "Ordner des Ziels, dann os.replace.")
    left = observation.get("left_elsewhere") or []
    check(not left, f"atomic_save lässt im temporären Ordner {german_list(map(str, left[:3]))} zurück.")


SIGTERM_AT = 250


@pytest.mark.requirement("atomar_sigterm")
def test_training_survives_sigterm(worker, robust):
    """course.preemption with the submission's atomic_save: SIGTERM after step 250, then a new process resumes."""
    outcome = worker.run("preemption", "robust", args={"sigterm_at": SIGTERM_AT}, cpu=TRAINING_CPU_SECONDS)
    runs = observed(outcome, "im Training mit SIGTERM")
    first, second = runs.get("first", {}), runs.get("second")
    said = f" Ausgabe: „{first.get('output', '')[-300:]}“" if first.get("output") else ""
    status = first.get("status")
    expected = ""
    if status == -15:
        what = "wurde durch SIGTERM beendet, statt zu speichern und mit dem Status 0 zu enden"
        expected = " Erwartet: atomic_save verändert keine Signal-Handler; der Handler des Trainings bleibt in Kraft."
    elif isinstance(status, int) and status < 0:
        what = f"wurde durch das Signal {-status} beendet, erwartet war nach SIGTERM der Status 0"
    else:
        what = f"endete mit dem Status {status}, erwartet war nach SIGTERM der Status 0"
    check(status == 0, f"Das Training mit Ihrem atomic_save (course/preemption.py) {what}.{said}{expected}")
    data = read_untrusted(outcome.folder, "nach_sigterm.pt")
    content, refused = read_content(data) if data is not None else (None, None)
    check(isinstance(content, dict) and refused is None and content.get("step") == SIGTERM_AT,
          f"Nach SIGTERM bei Schritt {SIGTERM_AT} liegt kein mit weights_only=True ladbarer Checkpoint dieses Schritts "
          "vor.")
    resumed = second.get("output", "") if second else ""
    check(second is not None and second.get("status") == 0 and f"Fortgesetzt nach Schritt {SIGTERM_AT}." in resumed,
          f"Der zweite Start setzte nicht bei Schritt {SIGTERM_AT} fort (Status {second and second.get('status')}, "
          f"Ausgabe: „{resumed[-300:]}“).")
    weights = read_untrusted(outcome.folder, "fortgesetzt.pt")
    final, _ = read_content(weights) if weights is not None else (None, None)
    diffs = differences(robust["uninterrupted"], final, "Gewichte") if isinstance(final, dict) else ["fehlen"]
    check(not diffs, f"Nach dem Fortsetzen weichen die Gewichte vom Lauf ohne Unterbrechung ab: {summary(diffs)}.")
