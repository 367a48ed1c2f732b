"""The exercises as Jupyter notebooks: generated from the stubs, executable headless, graded like the .py files."""

import ast
import json
import os
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from course import notebooks
from grader.notebook import GRADING_TAG, Conversion, NotebookError, convert
from grader.report import scorecard
from grader.rubric import CHECKPOINTS, LESSONS, max_points, requirements_of, tasks_of
from grader.runner import grade
from tests.catalogue import CATALOGUE, REPO, STUB, build_submission
from tests.notebook_support import add_cells, cell_number, notebook_submission, reference_notebook

CPU_LIMIT = 3
LESSON_ONE = max_points(tasks_of(CHECKPOINTS))
WRONG = ("strict_false", "no_try_except")  # from tests/catalogue/wrong: a quiet mistake and one that raises
# What a student might leave in a notebook: IPython commands, an endless loop, syntax errors elsewhere.
MESSY_CELLS = (
    "%pip install torch==2.13.0\n!ls\n",
    "model = torch.nn.Linear(2, 2)\nwhile True:\n    pass\n",
    "print('noch nicht fertig'\n",
    "def ausprobieren(:\n    pass\n",
)


def cell_source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def failed(grading):
    return {r.requirement.id for task in grading.tasks for r in task.requirements if not r.passed}


# --- generated from the stubs -------------------------------------------------------------------


def test_committed_notebooks_match_the_stubs():
    assert notebooks.stale() == [], "Die Notebooks in exercises/ passen nicht zu den Stummeln: make notebooks"
    assert sorted(path.name for path in (REPO / "exercises").glob("*.ipynb")) == sorted(
        f"{lesson.module}.ipynb" for lesson in LESSONS)


def test_a_changed_stub_makes_its_notebook_stale(tmp_path):
    for lesson in LESSONS:
        shutil.copy(REPO / "exercises" / lesson.filename, tmp_path / lesson.filename)
    for name, text in notebooks.expected(tmp_path).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert notebooks.stale(tmp_path, tmp_path) == []
    stub = tmp_path / "checkpoints.py"
    stub.write_text(stub.read_text(encoding="utf-8").replace("Speichert den Trainingsstand", "Sichert den Stand"),
                    encoding="utf-8")
    assert notebooks.stale(tmp_path, tmp_path) == ["checkpoints.ipynb"]
    assert notebooks.main(["--pruefen", str(tmp_path)]) == 0  # checked against the real stubs: still in sync
    (tmp_path / "robust.ipynb").unlink()
    assert notebooks.main(["--pruefen", str(tmp_path)]) == 1


def test_make_notebooks_keeps_a_notebook_someone_worked_on(tmp_path):
    reference_notebook(CHECKPOINTS, tmp_path)
    written, kept = notebooks.write(tmp_path)
    assert kept == ["checkpoints.ipynb"] and "checkpoints.ipynb" not in written
    assert "torch.save" in (tmp_path / "checkpoints.ipynb").read_text(encoding="utf-8")
    written, kept = notebooks.write(tmp_path, force=True)
    assert kept == [] and written == ["checkpoints.ipynb"]
    assert notebooks.stale(tmp_path) == []


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.module)
def test_notebook_opens_with_instructions_and_ends_with_grading(lesson):
    document = json.loads((REPO / "exercises" / f"{lesson.module}.ipynb").read_text(encoding="utf-8"))
    cells = document["cells"]
    assert document["metadata"]["kernelspec"]["name"] == "python3"
    assert cells[0]["cell_type"] == "markdown" and "So arbeiten Sie mit diesem Notebook" in cell_source(cells[0])
    assert lesson.title in cell_source(cells[0])
    setup = cell_source(cells[1])
    assert "# %pip install torch==2.13.0" in setup and "import torch" in setup.splitlines()
    stub = ast.parse((REPO / "exercises" / lesson.filename).read_text(encoding="utf-8"))
    code = [cell_source(cell) for cell in cells if cell["cell_type"] == "code"]
    for node in stub.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            holding = [source for source in code if re.search(rf"^(def|class) {node.name}\b", source, re.MULTILINE)]
            assert len(holding) == 1 and ast.get_docstring(node).splitlines()[0] in holding[0], node.name
    last = cells[-1]
    assert last["cell_type"] == "code" and last["metadata"]["tags"] == [GRADING_TAG]
    assert '"-m", "grader"' in cell_source(last) and f"{lesson.module}.ipynb" in cell_source(last)
    assert [cell["metadata"].get("tags") for cell in cells].count([GRADING_TAG]) == 1


# --- the conversion rule (no grading run) --------------------------------------------------------


def tiny_notebook(folder, *sources):
    """A notebook ``checkpoints.ipynb`` with a markdown cell and the given code cells."""
    document = {"cells": [{"cell_type": "markdown", "id": "titel", "metadata": {}, "source": "# Versuch"}],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = Path(folder) / "checkpoints.ipynb"
    path.write_text(json.dumps(document), encoding="utf-8")
    return add_cells(path, *sources)


def test_only_imports_definitions_and_simple_assignments_are_taken(tmp_path):
    path = tiny_notebook(tmp_path, "import os; print('hallo')\nimport re\nLIMIT = 3\nPATTERN = re.compile(r'a\\d')\n"
                                   "model = train()\nSomething.method = other\n",
                         "for step in range(10**12):\n    pass\n",
                         "@staticmethod\ndef save_checkpoint(model, optimizer, epoch, filename='c.pth'):\n    return LIMIT\n",
                         "from __future__ import annotations\n")
    conversion = convert(path, CHECKPOINTS)
    module = conversion.module
    for kept in ("import os", "import re", "LIMIT = 3", "PATTERN = re.compile(r'a\\d')", "Something.method = other",
                 "@staticmethod\ndef save_checkpoint"):
        assert kept in module
    for left_out in ("print", "train()", "range("):
        assert left_out not in module
    assert module.splitlines()[2] == "from __future__ import annotations"  # first statement, after the header
    compile(module, "checkpoints.py", "exec")
    assert conversion.remarks == [
        "Aus checkpoints.ipynb übernimmt die Bewertung nur Importe, Funktions- und Klassendefinitionen und einfache "
        "Zuweisungen; ausgelassen: Zelle 2, Zeile 1: „import os; print('hallo')“ und 1 weitere Anweisung; "
        "Zelle 3, Zeile 1: „for step in range(10**12):“."
    ]
    assert conversion.place(module.splitlines().index("LIMIT = 3") + 1) == "Zelle 2, Zeile 3"


def test_magics_and_cell_magics_are_left_out_and_named(tmp_path):
    path = tiny_notebook(tmp_path, "%pip install torch\n!ls\nimport torch\n\ndef save_checkpoint():\n    !echo hi\n"
                                   "    return 1\n", "%%bash\necho hallo\n", "torch.save?\n")
    conversion = convert(path, CHECKPOINTS)
    assert "import torch" in conversion.module and "def save_checkpoint():\n    pass\n    return 1" in conversion.module
    assert "%" not in conversion.module and "!" not in conversion.module and "?" not in conversion.module
    assert conversion.remarks == [
        "IPython-Befehle in checkpoints.ipynb laufen bei der Bewertung nicht: Zelle 2, Zeile 1: „%pip install "
        "torch“; Zelle 2, Zeile 2: „!ls“; Zelle 2, Zeile 6: „!echo hi“; dazu 1 weiterer Befehl.",
        "checkpoints.ipynb, Zelle 3 beginnt mit der Zellenmagie %%bash und ist keine Python-Zelle. Die Zelle wird "
        "ausgelassen; keine Aufgabe hängt von ihr ab.",
    ]
    assert conversion.broken_tasks == {}


def test_a_broken_cell_costs_only_the_tasks_that_need_it(tmp_path):
    path = tiny_notebook(tmp_path, "def _helper(:\n    pass\n",
                         "def save_checkpoint(model, optimizer, epoch, filename='c.pth'):\n    return _helper()\n",
                         "def load_checkpoint(model, optimizer, filename='c.pth'):\n    return 0\n")
    conversion = convert(path, CHECKPOINTS)
    assert set(conversion.broken_tasks) == {1}
    assert conversion.broken_tasks[1] == ("Syntaxfehler in checkpoints.ipynb, Zelle 2, Zeile 1: invalid syntax. "
                                          "Aufgabe 1 braucht _helper aus dieser Zelle und wird deshalb nicht bewertet "
                                          "(0 Punkte).")
    assert conversion.remarks == []


def test_a_later_valid_definition_replaces_a_broken_one(tmp_path):
    path = tiny_notebook(tmp_path, "def save_checkpoint(:\n    pass\n",
                         "def save_checkpoint(model, optimizer, epoch, filename='c.pth'):\n    return 1\n",
                         "print('Zelle mit Tag')\n")
    document = json.loads(path.read_text(encoding="utf-8"))
    document["cells"][-1]["metadata"]["tags"] = [GRADING_TAG]
    path.write_text(json.dumps(document), encoding="utf-8")
    conversion = convert(path, CHECKPOINTS)
    assert conversion.broken_tasks == {}
    assert conversion.remarks == ["Syntaxfehler in checkpoints.ipynb, Zelle 2, Zeile 1: invalid syntax. Die Zelle "
                                  "wird ausgelassen; keine Aufgabe hängt von ihr ab."]  # the tagged cell: no notice
    assert "Zelle mit Tag" not in conversion.module


def test_places_in_feedback_point_into_the_notebook():
    conversion = Conversion("checkpoints.ipynb", origins=[None, (4, 1), (4, 2), (7, 3)])
    message = ("RuntimeError: kaputt (checkpoints.py, Zeile 3: x = 1); checkpoints.py lässt sich nicht importieren "
               "(Zeile 4): NameError; robust.py, Zeile 3: y")
    assert conversion.relocate(message, "checkpoints.py") == (
        "RuntimeError: kaputt (checkpoints.ipynb, Zelle 4, Zeile 2: x = 1); checkpoints.ipynb lässt sich nicht "
        "importieren (Zelle 7, Zeile 3): NameError; robust.py, Zeile 3: y")


@pytest.mark.parametrize("content", ["{kein json", '{"cells": 3}', "\udcff"], ids=["json", "ohne_zellen", "binaer"])
def test_an_unreadable_notebook_counts_as_a_syntax_error(tmp_path, content):
    path = tmp_path / "checkpoints.ipynb"
    if content == "\udcff":
        path.write_bytes(b"\xff\xfe\x00")
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(NotebookError):
        convert(path, CHECKPOINTS)
    grading = grade(path, cpu_limit=CPU_LIMIT)  # nothing is left to run: no worker starts
    assert grading.status == "Syntaxfehler" and grading.points == 0
    assert "checkpoints.ipynb ist kein" in scorecard(grading)


# --- graded like the .py files -----------------------------------------------------------------


@pytest.fixture(scope="module")
def gradings(tmp_path_factory):
    """Grade notebooks and their .py counterparts once, two at a time; also how long each took."""
    root = tmp_path_factory.mktemp("notebooks")
    submissions = {}
    for lesson in LESSONS:
        reference_notebook(lesson, root / "referenz")
    submissions["referenz"] = root / "referenz"
    for name in WRONG:
        submissions[f"py_{name}"] = build_submission(CATALOGUE / "wrong" / f"{name}.py", root / f"py_{name}") / "checkpoints.py"
        submissions[f"nb_{name}"] = notebook_submission(CATALOGUE / "wrong" / f"{name}.py", root / f"nb_{name}")
    messy = reference_notebook(CHECKPOINTS, root / "unordentlich")
    submissions["unordentlich"] = add_cells(messy, *MESSY_CELLS, before="ausprobieren")
    # A working save_checkpoint, then a later copy with a syntax error: the later one is what the student means.
    broken = reference_notebook(CHECKPOINTS, root / "kaputt")
    working = next(cell for cell in json.loads(broken.read_text(encoding="utf-8"))["cells"]
                   if cell["id"] == "code-save_checkpoint")
    submissions["kaputt"] = add_cells(broken, cell_source(working).replace(
        'filename="checkpoint.pth"):', 'filename="checkpoint.pth")', 1), before="titel-load_checkpoint")
    reference_notebook(CHECKPOINTS, root / "stummel_daneben")
    shutil.copy(STUB, root / "stummel_daneben" / "checkpoints.py")
    submissions["stummel_daneben"] = root / "stummel_daneben"
    reference_notebook(CHECKPOINTS, root / "beide_bearbeitet")
    build_submission(CATALOGUE / "wrong" / "strict_false.py", root / "beide_bearbeitet")
    submissions["beide_bearbeitet"] = root / "beide_bearbeitet"

    def timed(path):
        start = time.monotonic()
        return grade(path, cpu_limit=CPU_LIMIT), time.monotonic() - start

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(timed, path) for name, path in submissions.items()}
        return {name: future.result() for name, future in futures.items()}, submissions


def test_reference_notebooks_get_full_points(gradings):
    grading, _ = gradings[0]["referenz"]
    assert failed(grading) == set(), scorecard(grading)
    assert grading.points == grading.max_points == max_points()
    assert grading.remarks == [], grading.remarks


def normalized(grading):
    """Result per requirement, with places in the file (``….py, Zeile 3`` or ``….ipynb, Zelle 9, Zeile 2``) unified."""
    place = re.compile(r"checkpoints\.(?:py|ipynb, Zelle \d+), Zeile \d+")
    return {r.requirement.id: (r.passed, [place.sub("ORT", message) for message in r.messages])
            for task in grading.tasks for r in task.requirements}


@pytest.mark.parametrize("name", WRONG)
def test_wrong_function_in_a_notebook_loses_what_it_loses_as_py(gradings, name):
    results, submissions = gradings
    script, notebook = results[f"py_{name}"][0], results[f"nb_{name}"][0]
    assert failed(script) and failed(notebook) == failed(script), scorecard(notebook)
    assert normalized(notebook) == normalized(script)
    assert (notebook.points, notebook.max_points, notebook.status) == (script.points, script.max_points, script.status)
    assert notebook.remarks == []


def test_feedback_names_cell_and_line_of_the_notebook(gradings):
    results, submissions = gradings
    path = submissions["nb_no_try_except"]
    number = cell_number(path, "code-load_checkpoint-2")  # the catalogue's function, after the reference's
    cell = next(c for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["id"] == "code-load_checkpoint-2")
    line = next(i for i, text in enumerate(cell_source(cell).split("\n"), 1) if "torch.load" in text)
    card = scorecard(results["nb_no_try_except"][0])
    assert f"(checkpoints.ipynb, Zelle {number}, Zeile {line}: checkpoint = torch.load(" in card, card
    assert "checkpoints.py" not in card


def test_loop_magics_and_broken_cells_elsewhere_are_left_out(gradings):
    results, submissions = gradings
    grading, seconds = results["unordentlich"]
    assert failed(grading) & {r.id for task in tasks_of(CHECKPOINTS) for r in requirements_of(task)} == set()
    assert grading.points == LESSON_ONE and grading.status == "ok", scorecard(grading)
    first = cell_number(submissions["unordentlich"], "ausprobieren") - len(MESSY_CELLS)
    card = scorecard(grading)
    assert f"Hinweis: IPython-Befehle in checkpoints.ipynb laufen bei der Bewertung nicht: Zelle {first}, Zeile 1: " \
           "„%pip install torch==2.13.0“; " f"Zelle {first}, Zeile 2: „!ls“." in card
    assert f"Zelle {first + 1}, Zeile 1: „model = torch.nn.Linear(2, 2)“ und 1 weitere Anweisung." in card
    assert f"Hinweis: Syntaxfehler in checkpoints.ipynb, Zelle {first + 2}, Zeile 1: '(' was never closed." in card
    assert f"Hinweis: Syntaxfehler in checkpoints.ipynb, Zelle {first + 3}, Zeile 1: invalid syntax." in card
    # The endless loop never runs: as fast as the plain reference notebook (which grades all lessons).
    assert seconds < 120 and seconds < 3 * results["py_strict_false"][1] + 30, seconds


def test_syntax_error_in_a_task_cell_costs_that_task(gradings):
    results, submissions = gradings
    grading = results["kaputt"][0]
    number = cell_number(submissions["kaputt"], "titel-load_checkpoint") - 1
    assert grading.status == "Syntaxfehler"
    assert grading.task(1).points == 0 and grading.task(2).points == grading.task(2).max_points
    card = scorecard(grading)
    assert (f"  Syntaxfehler in checkpoints.ipynb, Zelle {number}, Zeile 1: expected ':'. Aufgabe 1 braucht "
            "save_checkpoint aus dieser Zelle und wird deshalb nicht bewertet (0 Punkte).") in card.splitlines()
    assert "✓" not in card.split("Aufgabe 2")[0]


def test_py_and_notebook_side_by_side(gradings):
    results, _ = gradings
    chosen = results["stummel_daneben"][0]  # the stub .py is left alone: the notebook counts
    assert chosen.task(1).points + chosen.task(2).points == LESSON_ONE
    assert "Bewertet wird checkpoints.ipynb: checkpoints.py daneben ist noch der unveränderte Stummel." in chosen.remarks
    both = results["beide_bearbeitet"][0]  # both worked on: the .py file counts, and the feedback says so
    assert failed(both) & {r.id for r in requirements_of(tasks_of(CHECKPOINTS)[1])} == {"laden_andere_architektur"}
    assert any(remark.startswith("Im Ordner liegen checkpoints.py und checkpoints.ipynb, beide bearbeitet; bewertet "
                                 "wird checkpoints.py.") for remark in both.remarks)


def test_untouched_exercises_folder_grades_the_py_files_without_notice():
    from grader.submission import prepare

    prepared = prepare(REPO / "exercises", REPO / "exercises", LESSONS)
    assert prepared.remarks == [] and prepared.conversions == {}
    assert all(path.suffix == ".py" for path in prepared.files.values())


# --- executed headless -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """A private Jupyter setup with the kernel ``python3`` of this Python (ipykernel); nothing is downloaded."""
    from ipykernel.kernelspec import write_kernel_spec

    root = tmp_path_factory.mktemp("jupyter")
    write_kernel_spec(root / "share" / "kernels" / "python3")
    variables = {"JUPYTER_PATH": str(root / "share"), "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
                 "JUPYTER_CONFIG_DIR": str(root / "config"), "JUPYTER_DATA_DIR": str(root / "data"),
                 "IPYTHONDIR": str(root / "ipython"), "JUPYTER_PLATFORM_DIRS": "1"}
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def execute(document, folder):
    from nbclient import NotebookClient

    NotebookClient(document, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    return document


def outputs(cell):
    return "".join(output.get("text", "") for output in cell.get("outputs", []))


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.module)
def test_notebook_runs_headless_up_to_the_grading_cell(kernel, tmp_path, lesson):
    import nbformat

    document = nbformat.read(REPO / "exercises" / f"{lesson.module}.ipynb", as_version=4)
    document.cells = [cell for cell in document.cells if GRADING_TAG not in cell.metadata.get("tags", [])]
    names = sorted(name for task in tasks_of(lesson) for name in task.functions)
    document.cells.append(nbformat.v4.new_code_cell(f"print(sorted(name for name in {names!r} if callable(globals().get(name))))"))
    execute(document, tmp_path)
    assert outputs(document.cells[-1]).strip() == repr(names)


def test_grading_cell_grades_the_notebook_in_the_course_folder(kernel, tmp_path):
    import nbformat

    course = tmp_path / "kurs"
    (course / "exercises").mkdir(parents=True)
    (course / "grader").symlink_to(REPO / "grader")
    path = reference_notebook(CHECKPOINTS, course / "exercises")
    document = execute(nbformat.read(path, as_version=4), course / "exercises")
    text = outputs(document.cells[-1])
    assert f"Bewertung von {path}" in text and text.strip().endswith(f"Punkte: {LESSON_ONE}/{LESSON_ONE}"), text


def test_grading_cell_elsewhere_says_what_to_do(kernel, tmp_path):
    import nbformat

    document = nbformat.read(REPO / "exercises" / "checkpoints.ipynb", as_version=4)
    document.cells = document.cells[-1:]
    shutil.copy(REPO / "exercises" / "checkpoints.ipynb", tmp_path / "checkpoints.ipynb")
    text = outputs(execute(document, tmp_path).cells[-1])
    assert text.startswith("Der Bewerter des Kurses liegt nicht neben diesem Notebook.")
    assert "make grade ABGABE=pfad/zu/checkpoints.ipynb" in text


# --- on the course pages -----------------------------------------------------------------------


@pytest.mark.parametrize("edition", ["site", "student_site"])
def test_every_lesson_links_its_notebook(request, edition):
    site = request.getfixturevalue(edition)
    for lesson in LESSONS:
        if not (REPO / "source" / f"{lesson.page}.rst").is_file():
            continue  # a lesson still being written; tests/test_docs.py insists on its page
        page = (site / f"{lesson.page}.html").read_text(encoding="utf-8")
        links = re.findall(r'<a class="reference download internal" download="" href="(_downloads/[0-9a-f]+/'
                           rf'{lesson.module}\.ipynb)"><span class="xref aufgaben-download">Aufgaben als Notebook '
                           "herunterladen</span></a>", page)
        assert len(links) == 1, lesson.page
        assert (site / links[0]).read_bytes() == (REPO / "exercises" / f"{lesson.module}.ipynb").read_bytes()
