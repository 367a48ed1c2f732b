"""The grader's own quality: full points for correct code, losses for every known mistake."""

import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from grader.report import scorecard
from grader.rubric import (
    CHECKPOINTS,
    DISTRIBUTED,
    EXACT_RESUME,
    LESSONS,
    MANAGING,
    REQUIREMENTS,
    ROBUST,
    TASKS,
    TASKS_BY_NUMBER,
    max_points,
    requirements_of,
    tasks_of,
)
from grader.runner import grade
from tests.catalogue import (
    CATALOGUE,
    DISTRIBUTED_REFERENCE,
    MANAGER_REFERENCE,
    REPO,
    ROBUST_REFERENCE,
    STATE_REFERENCE,
    build_submission,
)

# Each known-wrong implementation and exactly the requirements it must fail: one mistake costs
# the requirements it breaks and no other.
WRONG = {
    "optimizer_not_saved": {"speichern_format", "speichern_optimierer", "speichern_kompatibel"},
    "epoch_off_by_one": {"speichern_epoche"},
    "epoch_as_tensor": {"speichern_epoche"},
    "filename_ignored": {"speichern_datei"},
    "wrong_default_name": {"speichern_standardname"},
    "makedirs_dirname": {"speichern_datei", "speichern_standardname"},
    # Not readable with weights_only=True: the epoch inside cannot be checked safely either (a cascade the
    # feedback names).
    "whole_model_pickled": {"speichern_format", "speichern_modell", "speichern_optimierer", "speichern_epoche",
                            "speichern_kompatibel"},
    "parameters_without_buffers": {"speichern_modell", "speichern_kompatibel"},
    "torch_version_saved": {"speichern_format", "speichern_kompatibel"},
    "weights_only_false": {"laden_sicher"},
    "weights_only_missing": {"laden_sicher"},
    "no_try_except": {"laden_fehlende_datei", "laden_unbrauchbare_datei", "laden_andere_architektur"},
    "only_missing_file_checked": {"laden_unbrauchbare_datei", "laden_andere_architektur"},
    "only_file_not_found_caught": {"laden_unbrauchbare_datei", "laden_andere_architektur"},
    "silent_failure": {"laden_fehlende_datei", "laden_unbrauchbare_datei", "laden_andere_architektur"},
    "none_instead_of_zero": {"laden_fehlende_datei", "laden_unbrauchbare_datei", "laden_andere_architektur"},
    "strict_false": {"laden_andere_architektur"},
    "optimizer_loaded_first": {"laden_andere_architektur"},
    "except_base_exception": {"laden_unterbrechung"},
    "bare_except": {"laden_unterbrechung"},
    "loads_into_copy": {"laden_modell"},
    "loads_into_new_optimizer": {"laden_optimierer"},
    # Never looks into the file: every unusable file "succeeds" as well.
    "restores_nothing": {"laden_modell", "laden_optimierer", "laden_unbrauchbare_datei", "laden_andere_architektur"},
    "restore_then_raise": {"laden_epoche"},
    # On a checkpoint without 'epoch' it returns the dictionary as well, instead of 0.
    "returns_dict": {"laden_epoche", "laden_unbrauchbare_datei"},
    "load_wrong_default_name": {"laden_standardname"},
    "returns_tuple": {"laden_epoche", "laden_fehlende_datei", "laden_unbrauchbare_datei", "laden_andere_architektur"},
    "returns_next_epoch": {"laden_epoche"},
}

# Known-wrong implementations of lesson 2 (training_state.py) and exactly the requirements they must fail.
WRONG_STATE = {
    "scheduler_not_saved": {"zustand_inhalt", "fortsetzen_epochenende", "fortsetzen_epochenmitte"},
    "rng_not_saved": {"zustand_zufall", "fortsetzen_epochenende", "fortsetzen_epochenmitte", "fortsetzen_zufall"},
    "rng_restored_before_iterator": {"fortsetzen_epochenmitte", "fortsetzen_zufall"},
    # Also restores the generators before iter(loader), which then draws from them: a second mistake.
    "data_position_ignored": {"fortsetzen_epochenmitte", "fortsetzen_zufall"},
    # Its own resume cannot read what its capture_rng_states returns: a cascade the feedback names.
    "numpy_state_as_array": {"zustand_weights_only", "fortsetzen_epochenende", "fortsetzen_epochenmitte",
                             "fortsetzen_zufall"},
    "torch_version_in_state": {"zustand_weights_only"},
    "no_fresh_start": {"fortsetzen_fehlende_datei"},
    "try_only_around_load": {"fortsetzen_fehlende_datei"},
    "resume_weights_only_false": {"fortsetzen_sicher"},
    "resume_except_base_exception": {"fortsetzen_unterbrechung"},
    # Keeps the state in a module variable: a fresh process sees nothing of it.
    "state_in_module_variable": {"fortsetzen_epochenende", "fortsetzen_epochenmitte", "fortsetzen_zufall"},
}

# Known-wrong implementations of lesson 3 (robust.py) and exactly the requirements they must fail.
WRONG_ROBUST = {
    "plain_torch_save": {"atomar_alte_datei"},
    "backup_and_restore": {"atomar_alte_datei"},  # survives exceptions, not a killed process
    "temp_in_tmp": {"atomar_anderes_dateisystem"},
    "temp_in_tmp_moved": {"atomar_anderes_dateisystem"},  # works, but shutil.move copies into the old file
    "temp_not_removed": {"atomar_aufraeumen"},
    "path_concatenation": {"atomar_inhalt"},
    # Fails after replacing when the path has no folder – as the training's checkpoint path has.
    "dirname_without_abspath": {"atomar_inhalt", "atomar_sigterm"},
    "error_swallowed": {"atomar_fehler_weitergeben"},
    "signal_reset_after_save": {"atomar_sigterm"},
    # Neither checks the shapes of the optimizer's state (nor does torch): such a checkpoint is loaded silently,
    # without message and without None; a model that does not fit is half loaded.
    "validates_keys_not_shapes": {"sicher_laden_unveraendert", "sicher_laden_rueckgabe", "sicher_laden_meldung"},
    "optimizer_not_validated": {"sicher_laden_unveraendert", "sicher_laden_rueckgabe", "sicher_laden_meldung"},
    "optimizer_shapes_not_checked": {"sicher_laden_unveraendert", "sicher_laden_rueckgabe", "sicher_laden_meldung"},
    "replace_module_everywhere": {"sicher_laden_praefixe"},
    "strips_whenever_prefixed": {"sicher_laden_echte_namen"},
    "map_location_ignored": {"sicher_laden_geraet"},
    "raises_on_problem": {"sicher_laden_rueckgabe"},
    "returns_epoch_only": {"sicher_laden_erfolg"},
    "message_without_details": {"sicher_laden_meldung"},
    # Without weights_only the unsafe type is not refused either: the checkpoint with it loads.
    "safe_load_weights_only_false": {"sicher_laden_weights_only", "sicher_laden_unveraendert",
                                     "sicher_laden_rueckgabe", "sicher_laden_meldung"},
    "allowlist_left_installed": {"sicher_laden_allowlist"},
    "allowlist_cleared": {"sicher_laden_allowlist"},
}
# Known-wrong implementations of lesson 4 (verwaltung.py) and exactly the requirements they must fail.
WRONG_MANAGER = {
    "unpadded_lexicographic": {"verwaltung_namen"},
    "best_not_protected": {"verwaltung_rotation"},
    "delete_before_write": {"verwaltung_absturz"},
    "not_atomic": {"verwaltung_absturz"},
    "tie_replaces_best": {"verwaltung_gleichstand"},
    "nan_as_best": {"verwaltung_nan"},
    "max_mode_ignored": {"verwaltung_bester"},
    "forgets_on_restart": {"verwaltung_neustart"},
    # Never loads a file: broken files are not skipped, and a crafted one cannot be judged safe.
    "latest_without_validation": {"verwaltung_neuester_gueltiger", "verwaltung_sicher"},
    "latest_weights_only_false": {"verwaltung_sicher"},
    "latest_no_key_check": {"verwaltung_neuester_gueltiger"},
}
CORRECT_MANAGER = {"manifest": CATALOGUE / "correct_manager" / "manifest.py"}
# Known-wrong implementations of lesson 5 (verteilt.py) and exactly the requirements they must fail.
WRONG_DISTRIBUTED = {
    "shared_rng_key": {"verteilt_zufall"},
    "optimizer_without_get_state_dict": {"verteilt_modell_optimierer", "verteilt_umverteilen"},  # not in the file
    "scheduler_forgotten": {"verteilt_fortschritt"},
    "async_without_waiting": {"verteilt_async_warten"},
    "async_default_group": {"verteilt_async_warten"},
    "async_one_folder": {"verteilt_async_absturz"},
    "latest_missing_folder_raises": {"verteilt_neuester"},
    # Loading the unfinished save is exactly what a crash during a background save leaves behind.
    "latest_ignores_metadata": {"verteilt_neuester", "verteilt_async_absturz"},
    "numpy_rng_in_state": {"verteilt_umwandeln"},
    "rank_without_process_group_fails": {"verteilt_umverteilen"},
    # Rank 1's shards are missing: the synchronous checkpoint cannot be loaded at all (the background
    # saves are the reference's and stay whole).
    "rank_zero_only_saves": {"verteilt_dateien", "verteilt_modell_optimierer", "verteilt_fortschritt",
                             "verteilt_zufall", "verteilt_neuester", "verteilt_umverteilen", "verteilt_umwandeln"},
}
CORRECT_DISTRIBUTED = {"explicit_keys": CATALOGUE / "correct_verteilt" / "explicit_keys.py"}
# One rank fails or hangs: the grading ends anyway and names the rank, where it was and why.
FAILING_RANK = ("rank_one_raises_in_save", "rank_one_hangs_in_save")
WRONG_BY_LESSON = {CHECKPOINTS: WRONG, EXACT_RESUME: WRONG_STATE, ROBUST: WRONG_ROBUST, MANAGING: WRONG_MANAGER,
                   DISTRIBUTED: WRONG_DISTRIBUTED}
assert sum(map(len, WRONG_BY_LESSON.values())) == len(set().union(*WRONG_BY_LESSON.values())), "unique names"
CORRECT_ROBUST = {name: CATALOGUE / "correct_robust" / f"{name}.py" for name in ("transactional", "trial_on_copies")}

CORRECT = {
    "pathlib_stderr_extra_keys": CATALOGUE / "correct" / "pathlib_stderr_extra_keys.py",
    "logging_messages": CATALOGUE / "correct" / "logging_messages.py",
    "atomic_save": REPO / "source" / "examples" / "atomic_save_example.py",
}

BROKEN = {
    "syntax_error": "import torch\n\ndef save_checkpoint(model, optimizer, epoch, filename='checkpoint.pth')\n    pass\n",
    "import_error": "import torch\nimport modul_das_es_nicht_gibt\n",
    "endless_loop_in_save": (REPO / "solutions" / "checkpoints.py").read_text(encoding="utf-8")
    + "\n\ndef save_checkpoint(model, optimizer, epoch, filename='checkpoint.pth'):\n    while True:\n        pass\n",
    "process_killed_in_load": (REPO / "solutions" / "checkpoints.py").read_text(encoding="utf-8")
    + "\n\ndef load_checkpoint(model, optimizer, filename='checkpoint.pth'):\n    import os\n    os._exit(0)\n",
}

CPU_LIMIT = 3


def failed(grading):
    return {r.requirement.id for task in grading.tasks for r in task.requirements if not r.passed}


@pytest.fixture(scope="session")
def gradings(tmp_path_factory):
    """Grade every catalogue entry once, in parallel: a subprocess each."""
    root = tmp_path_factory.mktemp("abgaben")
    submissions = {"solutions": REPO / "solutions", "exercises": REPO / "exercises"}
    for name in WRONG:
        submissions[name] = build_submission(CATALOGUE / "wrong" / f"{name}.py", root / name)
    for name in WRONG_STATE:
        submissions[name] = build_submission(CATALOGUE / "wrong_state" / f"{name}.py", root / name, STATE_REFERENCE)
    for name in WRONG_ROBUST:
        submissions[name] = build_submission(CATALOGUE / "wrong_robust" / f"{name}.py", root / name, ROBUST_REFERENCE)
    for name, variant in CORRECT.items():
        submissions[name] = build_submission(variant, root / name)
    for name, variant in CORRECT_ROBUST.items():
        submissions[name] = build_submission(variant, root / name, ROBUST_REFERENCE)
    for name in WRONG_MANAGER:
        submissions[name] = build_submission(CATALOGUE / "wrong_manager" / f"{name}.py", root / name, MANAGER_REFERENCE)
    for name, variant in CORRECT_MANAGER.items():
        submissions[name] = build_submission(variant, root / name, MANAGER_REFERENCE)
    for name in WRONG_DISTRIBUTED:
        submissions[name] = build_submission(CATALOGUE / "wrong_verteilt" / f"{name}.py", root / name,
                                             DISTRIBUTED_REFERENCE)
    for name, variant in CORRECT_DISTRIBUTED.items():
        submissions[name] = build_submission(variant, root / name, DISTRIBUTED_REFERENCE)
    for name in FAILING_RANK:
        submissions[name] = build_submission(CATALOGUE / "misbehaving" / f"{name}.py", root / name,
                                             DISTRIBUTED_REFERENCE)
    for name, source in BROKEN.items():
        (root / name).mkdir()
        (root / name / "checkpoints.py").write_text(source, encoding="utf-8")
        submissions[name] = root / name
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(grade, path, cpu_limit=CPU_LIMIT) for name, path in submissions.items()}
        return {name: future.result() for name, future in futures.items()}


def test_reference_gets_full_points(gradings):
    grading = gradings["solutions"]
    assert failed(grading) == set(), scorecard(grading)
    assert grading.points == grading.max_points == max_points()


def test_untouched_stubs_get_zero_and_not_implemented(gradings):
    grading = gradings["exercises"]
    assert grading.points == 0
    assert all(task.not_implemented for task in grading.tasks)
    card = scorecard(grading)
    assert card.count("noch nicht implementiert") == len(TASKS)
    assert card.splitlines()[-1] == f"Punkte: 0/{max_points()}"


@pytest.mark.parametrize("lesson, name", [(lesson, name) for lesson, wrong in WRONG_BY_LESSON.items() for name in wrong],
                         ids=lambda value: getattr(value, "module", value))
def test_wrong_implementation_loses_exactly_what_it_breaks(gradings, lesson, name):
    grading = gradings[name]
    graded = {requirement.id for task in tasks_of(lesson) for requirement in requirements_of(task)}
    assert failed(grading) & graded == WRONG_BY_LESSON[lesson][name], scorecard(grading)


LESSON_ONE = {r.id for task in tasks_of(CHECKPOINTS) for r in requirements_of(task)}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variant_gets_full_points(gradings, name):
    grading = gradings[name]
    assert failed(grading) & LESSON_ONE == set(), scorecard(grading)


LESSON_THREE = {r.id for task in tasks_of(ROBUST) for r in requirements_of(task)}


@pytest.mark.parametrize("name", CORRECT_ROBUST)
def test_correct_robust_variant_gets_full_points(gradings, name):
    grading = gradings[name]
    assert failed(grading) & LESSON_THREE == set(), scorecard(grading)


@pytest.mark.parametrize("name", CORRECT_MANAGER)
def test_correct_manager_variant_gets_full_points(gradings, name):
    grading = gradings[name]
    assert failed(grading) & {r.id for r in requirements_of(TASKS_BY_NUMBER[7])} == set(), scorecard(grading)


@pytest.mark.parametrize("name", CORRECT_DISTRIBUTED)
def test_correct_distributed_variant_gets_full_points(gradings, name):
    grading = gradings[name]
    assert failed(grading) & {r.id for r in requirements_of(TASKS_BY_NUMBER[8])} == set(), scorecard(grading)


LESSON_FIVE = {r.id for task in tasks_of(DISTRIBUTED) for r in requirements_of(task)}


def test_failing_rank_is_named_with_its_error(gradings):
    grading = gradings["rank_one_raises_in_save"]
    card = scorecard(grading)
    assert failed(grading) & LESSON_FIVE == LESSON_FIVE, card
    # Rank 0 either notices the lost connection itself or is ended by torchrun first, in save_checkpoint
    # or just before: timing decides which, the order of the sentences does not depend on it.
    assert re.search(r"Rang 1 scheiterte bei save_checkpoint nach Schritt 3: RuntimeError: Platte voll\. "
                     r"Rang 0 (wurde|verlor) darauf bei ", card), card


def test_hanging_rank_ends_in_a_timeout_that_names_it(gradings):
    grading = gradings["rank_one_hangs_in_save"]
    card = scorecard(grading)
    assert failed(grading) & LESSON_FIVE == LESSON_FIVE, card
    assert "Rang 0 scheiterte bei save_checkpoint nach Schritt 3" in card, card
    assert "Zeitüberschreitung beim Warten auf den anderen Rang" in card, card
    assert "Rang 1 wurde darauf bei save_checkpoint nach Schritt 3 beendet." in card, card


def test_folder_without_a_module_scores_zero_for_its_tasks(gradings):
    grading = gradings["pathlib_stderr_extra_keys"]  # a folder holding only checkpoints.py
    assert all(grading.task(number).points == 0 for number in (3, 4, 5, 6, 7, 8))
    assert "Die Datei training_state.py fehlt in der Abgabe." in scorecard(grading)
    assert "Die Datei robust.py fehlt in der Abgabe." in scorecard(grading)


def test_every_requirement_is_broken_by_some_wrong_implementation():
    covered = set().union(*(set().union(*wrong.values()) for wrong in WRONG_BY_LESSON.values()))
    assert covered == {requirement.id for requirement in REQUIREMENTS}


def test_syntax_error_named_with_file_and_line(gradings):
    grading = gradings["syntax_error"]
    assert grading.points == 0 and grading.status == "Syntaxfehler"
    assert "Syntaxfehler in checkpoints.py, Zeile 3" in scorecard(grading)


def test_import_error_gives_one_clear_message(gradings):
    grading = gradings["import_error"]
    card = scorecard(grading)
    assert grading.points == 0
    assert "lässt sich nicht importieren (Zeile 2): ModuleNotFoundError" in card
    assert "Traceback" not in card


def test_endless_loop_fails_only_its_task(gradings):
    grading = gradings["endless_loop_in_save"]
    save, load = grading.task(1), grading.task(2)
    assert save.points == 0 and load.points == load.max_points
    assert f"Zeitüberschreitung in save_checkpoint: Der Prüfprozess mit Ihrem Code hat mehr als {CPU_LIMIT} s gerechnet" in scorecard(grading)
    assert "Endlosschleife?" in scorecard(grading)


def test_killed_process_costs_only_its_task(gradings):
    grading = gradings["process_killed_in_load"]
    save, load = grading.task(1), grading.task(2)
    assert grading.status == "Absturz"
    assert save.points == save.max_points and load.points == 0
    assert "Der Prozess endete in load_checkpoint ohne Ergebnis (z. B. mit os._exit)" in scorecard(grading)


def run_cli(*arguments):
    return subprocess.run(
        [sys.executable, "-m", "grader", *arguments], cwd=REPO, capture_output=True, text=True, timeout=300
    )


def test_cli_exit_status_and_last_line(tmp_path):
    shutil.copy(REPO / "solutions" / "checkpoints.py", tmp_path / "checkpoints.py")
    full = run_cli(str(tmp_path / "checkpoints.py"))  # a single file grades its own lesson
    lesson_points = max_points(tasks_of(CHECKPOINTS))
    assert full.returncode == 0
    assert full.stdout.strip().splitlines()[-1] == f"Punkte: {lesson_points}/{lesson_points}"
    partial = run_cli("exercises")
    assert partial.returncode == 1
    assert partial.stdout.strip().splitlines()[-1] == f"Punkte: 0/{max_points()}"


MODULE_FILES = ", ".join(lesson.filename for lesson in LESSONS)


@pytest.mark.parametrize(
    "argument, message",
    [
        ("gibt/es/nicht", "Die Abgabe gibt/es/nicht gibt es nicht."),
        ("README.md", f"Die Abgabe muss eine der Dateien {MODULE_FILES} sein, nicht README.md."),
        ("source", f"Im Ordner source liegt keine der Dateien {MODULE_FILES}."),
    ],
)
def test_cli_rejects_what_is_no_submission(argument, message):
    result = run_cli(argument)
    assert result.returncode == 2
    assert message in result.stderr


def test_syntax_error_in_one_module_costs_only_its_lesson(tmp_path):
    shutil.copy(REPO / "solutions" / "checkpoints.py", tmp_path / "checkpoints.py")
    (tmp_path / "training_state.py").write_text("def capture_rng_states(:\n", encoding="utf-8")
    grading = grade(tmp_path, cpu_limit=CPU_LIMIT)
    assert grading.status == "Syntaxfehler"
    assert grading.task(1).points + grading.task(2).points == max_points(tasks_of(CHECKPOINTS))
    assert grading.task(3).points == grading.task(4).points == 0
    assert "Syntaxfehler in training_state.py, Zeile 1" in scorecard(grading)


def test_every_scorecard_is_short_and_plain(gradings):
    for name, grading in gradings.items():
        card = scorecard(grading)
        assert len(card.encode()) <= 8 * 1024, name
        assert max(len(line) for line in card.splitlines()) <= 600, name
        assert "\x1b" not in card, name


BURNERS = 4


@pytest.fixture(scope="module")
def busy_machine():
    """Four processes that burn CPU for as long as the tests below run."""
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(BURNERS)]
    yield
    for burner in burners:
        burner.kill()
        burner.wait()


@pytest.mark.parametrize("name", ["solutions", *CORRECT])
def test_full_points_on_a_busy_machine(busy_machine, tmp_path, name):
    path = REPO / "solutions" if name == "solutions" else build_submission(CORRECT[name], tmp_path / name)
    grading = grade(path)
    assert failed(grading) == set() if name == "solutions" else failed(grading) & LESSON_ONE == set(), scorecard(grading)


def test_loop_is_named_on_a_busy_machine(busy_machine, tmp_path):
    (tmp_path / "checkpoints.py").write_text(BROKEN["endless_loop_in_save"], encoding="utf-8")
    grading = grade(tmp_path / "checkpoints.py", cpu_limit=CPU_LIMIT)
    assert grading.task(1).points == 0 and grading.task(2).points == grading.task(2).max_points
    assert "Endlosschleife?" in scorecard(grading)


def test_feedback_names_what_a_student_can_act_on(gradings):
    """The rejected type and its key, a German hint for torch's own message, the student's message."""
    refused = scorecard(gradings["torch_version_saved"])
    assert "torch.torch_version.TorchVersion" in refused and "['torch_version']" in refused
    assert "Der Scheduler wurde öfter weitergeschaltet als geplant" in scorecard(gradings["data_position_ignored"])
    assert "(Ihre Meldung: „Checkpoint nicht geladen" in scorecard(gradings["returns_tuple"])
    assert "Folgefehler aus Aufgabe 3" in scorecard(gradings["numpy_state_as_array"])


def test_help_names_every_lesson():
    text = " ".join(run_cli("--help").stdout.split())
    assert all(lesson.filename in text and lesson.title in text for lesson in LESSONS)
