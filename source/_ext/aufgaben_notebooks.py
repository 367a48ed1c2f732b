"""Die Aufgaben jeder Lektion als Jupyter-Notebook zum Herunterladen.

Beim Start des Baus erzeugt die Erweiterung die Notebooks aus den Stummeln in ``exercises/`` nach
``source/_generated/notebooks/`` (mit ``course.notebooks``, nur wenn sich etwas geändert hat) und
fügt in jede Lektion aus ``grader/rubric.py`` direkt unter der Überschrift „Aufgaben“ den Link
„Aufgaben als Notebook herunterladen“ ein (die Rolle ``aufgaben-download`` wirkt wie ``:download:``). Eine neue Lektion bekommt Notebook und
Link also von selbst; fehlt ihr die Überschrift „Aufgaben“, steht der Link am Ende der Seite. Der
Link steht auch in der Ausgabe für Studierende: Die Notebooks enthalten nur die Stummel.
"""

import re
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.roles import XRefRole

FOLDER = "_generated/notebooks"
HEADING = re.compile(r"^Aufgaben[ \t]*\n([-=~^\"'`#*+.:_])\1{7,}[ \t]*\n", re.MULTILINE)
LINK = (
    ":aufgaben-download:`Aufgaben als Notebook herunterladen </{folder}/{notebook}>` (``{notebook}``): dieselben "
    "Aufgaben mit ihren Beschreibungen, je Funktion oder Klasse eine Zelle. Im Ordner ``exercises/`` bewertet "
    "``make grade`` das Notebook wie ``{module}.py``."
)


def lessons():
    from grader.rubric import LESSONS

    return {lesson.page: lesson for lesson in LESSONS}


def generate(app):
    """Schreibt die Notebooks; eine unveränderte Datei bleibt unberührt (sonst baute Sphinx jedes Mal neu)."""
    from course.notebooks import expected

    target = Path(app.srcdir) / FOLDER
    target.mkdir(parents=True, exist_ok=True)
    for name, text in expected().items():
        path = target / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")


def insert_link(app, docname, source):
    lesson = lessons().get(docname)
    if lesson is None:
        return
    paragraph = app.config.aufgaben_notebooks_link.format(folder=FOLDER, notebook=f"{lesson.module}.ipynb", module=lesson.module)
    text = source[0]
    match = HEADING.search(text)
    if match:
        source[0] = f"{text[:match.end()]}\n{paragraph}\n{text[match.end():]}"
    else:
        source[0] = f"{text.rstrip()}\n\n{paragraph}\n"


def setup(app):
    # Wie :download:, aber der Linktext in normaler Schrift statt als Code.
    app.add_role("aufgaben-download", XRefRole(nodeclass=addnodes.download_reference, innernodeclass=nodes.inline))
    # Als Konfigurationswert: Ändert sich der Text, baut Sphinx die Lektionen neu.
    app.add_config_value("aufgaben_notebooks_link", LINK, "env")
    app.connect("builder-inited", generate)
    app.connect("source-read", insert_link)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
