"""Grading a whole class: misbehaving submissions, determinism, and the exports."""

import csv
import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
import zipfile

import pytest

from grader.batch import FEEDBACK_FOLDER, GRADES_FILE, grade_all, summary
from gradescope.package import build as build_gradescope_zip
from grader.rubric import CHECKPOINTS, MANAGING, max_points, requirements_of, tasks_of
from tests.catalogue import CATALOGUE, REFERENCE, REPO, STUB, build_submission
from tests.notebook_support import add_cells, notebook_submission, reference_notebook

LIMITS = dict(cpu_limit=2)
LESSON_ONE = tasks_of(CHECKPOINTS)
LESSON_ONE_REQUIREMENTS = [requirement for task in LESSON_ONE for requirement in requirements_of(task)]
FULL_1, FULL_2 = 10, 14

# Submission → (base module, expected status, points of Aufgabe 1 and 2). The points are what the
# genuine behaviour earns; nothing printed and no exit status counts.
MISBEHAVING = {
    "loop_at_import": (REFERENCE, "Zeitüberschreitung", 0, 0),
    "loop_in_save": (REFERENCE, "Zeitüberschreitung", 0, FULL_2),
    "sys_exit_at_import": (REFERENCE, "Importfehler", 0, 0),
    "os_exit_at_import": (REFERENCE, "Absturz", 0, 0),
    "sys_exit_in_load": (REFERENCE, "Absturz", FULL_1, 0),
    "os_exit_in_load": (REFERENCE, "Absturz", FULL_1, 0),
    "huge_allocation_in_save": (REFERENCE, "Speicherlimit", 0, FULL_2),
    # Its load_checkpoint returns 0 without reading anything: right for missing and unusable files,
    # but it cannot show that it loads safely (laden_sicher) or lets Ctrl+C through.
    "fake_scorecard": (STUB, "ok", 0, 5),
    # Read the grader's source and try to forge results: untouched stubs, so nothing may be gained.
    "patches_grader": (STUB, "ok", 0, 0),
    # Its writes reach only its own probe's folder (grader.landlock), which the probe then rewrites.
    "forges_results": (STUB, "ok", 0, 0),
    "deletes_working_directory": (REFERENCE, "ok", FULL_1, FULL_2),
    "keyboard_interrupt_in_save": (REFERENCE, "Absturz", 0, FULL_2),
    "imports_solutions": (STUB, "Importfehler", 0, 0),
    "reads_solution_file": (STUB, "Importfehler", 0, 0),
}


def make_class(root, names):
    """A folder of submissions: the reference, the stub and catalogue entries."""
    shutil.copytree(REPO / "solutions", root / "referenz", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "stummel").mkdir()
    shutil.copy(STUB, root / "stummel" / "checkpoints.py")
    for name, (folder, base) in names.items():
        build_submission(CATALOGUE / folder / f"{name}.py", root / name, base)
    return root


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("klasse")
    submissions = make_class(root / "abgaben", {name: ("misbehaving", base) for name, (base, *_) in MISBEHAVING.items()})
    (submissions / "ohne_datei").mkdir()
    output = root / "bewertung"
    gradings = grade_all(submissions, output, workers=2, progress=False, **LIMITS)
    with open(output / GRADES_FILE, encoding="utf-8", newline="") as file:
        rows = {row["student"]: row for row in csv.DictReader(file)}
    return gradings, rows, output


@pytest.mark.parametrize("name", MISBEHAVING)
def test_misbehaving_submission_gets_what_it_earns(graded_class, name):
    _, rows, output = graded_class
    _, status, points_1, points_2 = MISBEHAVING[name]
    row = rows[name]
    assert (row["status"], int(row["aufgabe1"]), int(row["aufgabe2"])) == (status, points_1, points_2), row
    assert int(row["summe"]) == points_1 + points_2
    feedback = (output / FEEDBACK_FOLDER / f"{name}.md").read_text(encoding="utf-8")
    assert feedback.rstrip().endswith(f"**Punkte: {points_1 + points_2}/{max_points()}**")


def test_well_behaved_neighbours_are_unaffected(graded_class):
    _, rows, _ = graded_class
    assert (rows["referenz"]["status"], rows["referenz"]["summe"]) == ("ok", str(max_points()))
    assert (rows["stummel"]["status"], rows["stummel"]["summe"]) == ("ok", "0")


def test_folder_without_module_is_reported(graded_class):
    _, rows, output = graded_class
    assert (rows["ohne_datei"]["status"], rows["ohne_datei"]["summe"]) == ("keine Abgabe", "0")
    assert "keine der Dateien checkpoints.py" in (output / FEEDBACK_FOLDER / "ohne_datei.md").read_text(encoding="utf-8")


def test_feedback_names_the_misbehaviour(graded_class):
    _, _, output = graded_class
    expectations = {
        "loop_in_save": "Zeitüberschreitung in save_checkpoint: Der Prüfprozess mit Ihrem Code hat mehr als 2 s gerechnet",
        "sys_exit_at_import": "lässt sich nicht importieren (Zeile",
        "os_exit_in_load": "ohne Ergebnis (z. B. mit os._exit)",
        "huge_allocation_in_save": "mehr Speicher angefordert, als die Bewertung erlaubt",
        "keyboard_interrupt_in_save": "Ihr Code hat KeyboardInterrupt ausgelöst",
        "imports_solutions": "ModuleNotFoundError: No module named 'solutions'",
    }
    for name, sentence in expectations.items():
        assert sentence in (output / FEEDBACK_FOLDER / f"{name}.md").read_text(encoding="utf-8"), name


def test_summary_counts_statuses_and_distribution(graded_class):
    gradings, _, _ = graded_class
    text = summary(gradings)
    assert text.startswith(f"{len(gradings)} Abgaben bewertet: ")
    assert "4 × Absturz" in text and "3 × Importfehler" in text
    assert f"Aufgabe 1 (save_checkpoint, max. {FULL_1} P.)" in text


def read_outputs(output):
    files = [output / GRADES_FILE, *sorted((output / FEEDBACK_FOLDER).iterdir())]
    return {file.name: file.read_bytes() for file in files}


def test_same_results_twice_in_any_order_and_parallelism(tmp_path):
    wrong = {name: ("wrong", REFERENCE) for name in ("strict_false", "epoch_off_by_one", "returns_tuple")}
    submissions = make_class(tmp_path / "abgaben", wrong)
    grade_all(submissions, tmp_path / "sequenziell", workers=1, progress=False, **LIMITS)
    grade_all(submissions, tmp_path / "parallel", workers=2, progress=False, **LIMITS)
    assert read_outputs(tmp_path / "sequenziell") == read_outputs(tmp_path / "parallel")


def grader_cli(*arguments):
    return subprocess.run([sys.executable, "-m", "grader", *arguments], cwd=REPO, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """Gradescope JSON and JUnit XML of a submission that fails exactly one requirement."""
    root = tmp_path_factory.mktemp("export")
    submission = build_submission(CATALOGUE / "wrong" / "strict_false.py", root / "abgabe") / "checkpoints.py"
    result = grader_cli(str(submission), "--json", str(root / "results.json"), "--junit", str(root / "junit.xml"))
    return result, json.loads((root / "results.json").read_text(encoding="utf-8")), ElementTree.parse(root / "junit.xml")


def test_gradescope_json_matches_scorecard(exports):
    result, document, _ = exports
    total = int(result.stdout.strip().splitlines()[-1].removeprefix("Punkte: ").split("/")[0])
    assert document["score"] == total == max_points(LESSON_ONE) - 2
    assert len(document["tests"]) == len(LESSON_ONE_REQUIREMENTS)
    assert sum(test["score"] for test in document["tests"]) == total
    for test in document["tests"]:
        assert set(test) >= {"name", "score", "max_score", "status", "output", "visibility"}
    failed = [test for test in document["tests"] if test["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["score"] == 0 and "anderen Schlüsselnamen" in failed[0]["output"]


def test_junit_xml_matches_scorecard(exports):
    _, _, tree = exports
    cases = tree.getroot().findall("./testsuite/testcase")
    assert len(cases) == len(LESSON_ONE_REQUIREMENTS)
    failures = [case for case in cases if case.find("failure") is not None]
    assert [case.get("name").split(":")[0] for case in failures] == ["laden_andere_architektur"]
    assert sum(int(suite.get("failures")) for suite in tree.getroot().findall("testsuite")) == 1


def test_missing_submission_still_writes_a_zero_result(tmp_path):
    result = grader_cli(str(tmp_path / "gibt_es_nicht"), "--json", str(tmp_path / "results.json"))
    assert result.returncode == 2
    assert json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))["score"] == 0


def test_grade_all_takes_notebooks(tmp_path):
    submissions = tmp_path / "abgaben"
    reference_notebook(CHECKPOINTS, submissions / "notizbuch")
    notebook_submission(CATALOGUE / "wrong" / "strict_false.py", submissions / "notizbuch_falsch")
    add_cells(reference_notebook(CHECKPOINTS, submissions / "mit_training"), "while True:\n    pass\n")
    grade_all(submissions, tmp_path / "bewertung", workers=2, progress=False, **LIMITS)
    with open(tmp_path / "bewertung" / GRADES_FILE, encoding="utf-8", newline="") as file:
        rows = {row["student"]: (row["status"], int(row["aufgabe1"]), int(row["aufgabe2"])) for row in csv.DictReader(file)}
    assert rows == {"notizbuch": ("ok", FULL_1, FULL_2), "notizbuch_falsch": ("ok", FULL_1, FULL_2 - 2),
                    "mit_training": ("ok", FULL_1, FULL_2)}
    feedback = (tmp_path / "bewertung" / FEEDBACK_FOLDER / "mit_training.md").read_text(encoding="utf-8")
    assert "- Hinweis: Aus checkpoints.ipynb übernimmt die Bewertung nur Importe" in feedback
    assert "„while True:“" in feedback


# A student who uploads the whole folder exercises/ (as .py files or as a notebook), or notebooks at the top.
UPLOADS = {
    "exercises": lambda upload: shutil.copytree(REPO / "solutions", upload / "exercises",
                                                ignore=shutil.ignore_patterns("__pycache__")),
    "exercises_notebook": lambda upload: reference_notebook(CHECKPOINTS, upload / "exercises"),
    "notebooks": lambda upload: [reference_notebook(lesson, upload) for lesson in (CHECKPOINTS, MANAGING)],
}
EXPECTED_SCORE = {"exercises": max_points(), "exercises_notebook": FULL_1 + FULL_2,
                  "notebooks": FULL_1 + FULL_2 + max_points(tasks_of(MANAGING))}


@pytest.mark.parametrize("kind", UPLOADS)
def test_gradescope_package_grades_an_upload(tmp_path, kind):
    archive = build_gradescope_zip(tmp_path / "gradescope.zip")
    source = tmp_path / "autograder" / "source"
    shutil.unpack_archive(archive, source)
    with zipfile.ZipFile(archive) as contents:  # unzip keeps these bits; shutil does not
        assert all(contents.getinfo(name).external_attr >> 16 & 0o111 for name in ("setup.sh", "run_autograder"))
    upload = tmp_path / "autograder" / "submission"
    upload.mkdir(parents=True)
    UPLOADS[kind](upload)
    environment = {"AUTOGRADER_ROOT": str(tmp_path / "autograder"), "AUTOGRADER_PYTHON": sys.executable, "PATH": "/usr/bin:/bin"}
    subprocess.run(["bash", str(source / "run_autograder")], env=environment, check=True, capture_output=True, timeout=300)
    document = json.loads((tmp_path / "autograder" / "results" / "results.json").read_text(encoding="utf-8"))
    assert document["score"] == EXPECTED_SCORE[kind]
