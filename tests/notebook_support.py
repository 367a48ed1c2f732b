"""Notebooks as submissions for the tests: built like the course's notebooks, from any module's source."""

import json
from pathlib import Path

from course.notebooks import build, render
from grader.rubric import LESSONS
from tests.catalogue import REFERENCE, REPO

LESSON_OF_FILE = {lesson.filename: lesson for lesson in LESSONS}


def write_notebook(source, lesson, folder):
    """``folder/<module>.ipynb``: the notebook of ``source`` (one cell per function, as for the stubs)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{lesson.module}.ipynb"
    path.write_text(render(build(source, lesson)), encoding="utf-8")
    return path


def reference_notebook(lesson, folder):
    """The notebook with the reference solution of ``lesson``."""
    return write_notebook((REPO / "solutions" / lesson.filename).read_text(encoding="utf-8"), lesson, folder)


def notebook_submission(variant, folder, base=REFERENCE):
    """Like ``tests.catalogue.build_submission``, as a notebook: ``base`` with the code of ``variant`` appended."""
    source = base.read_text(encoding="utf-8") + "\n\n# --- Variante ---\n" + Path(variant).read_text(encoding="utf-8")
    return write_notebook(source, LESSON_OF_FILE[base.name], folder)


def add_cells(path, *sources, before=None):
    """Add code cells to the notebook at ``path`` (at the end, or before the cell with the id ``before``)."""
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    cells = [{"cell_type": "code", "execution_count": None, "id": f"zusatz-{len(document['cells'])}-{number}",
              "metadata": {}, "outputs": [], "source": source} for number, source in enumerate(sources)]
    index = next((i for i, cell in enumerate(document["cells"]) if cell["id"] == before), len(document["cells"]))
    document["cells"][index:index] = cells
    Path(path).write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def cell_number(path, identifier):
    """The position (from 1, markdown cells counted) of the cell with the id ``identifier``."""
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    return next(i for i, cell in enumerate(cells, 1) if cell["id"] == identifier)
