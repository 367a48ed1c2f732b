"""Sphinx-Konfiguration des Kurses (liegt oben im Projekt; der Quelltext liegt in source/)."""

import hashlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "source" / "_ext"))
# Die Beispiele der Lektionen laufen beim Bauen mit demselben Python wie Sphinx,
# auch wenn die virtuelle Umgebung nicht aktiviert ist.
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
# Sie importieren den Kurs (course/) und die Musterlösungen aus dem Projektordner.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))

project = "PyTorch-Checkpoints"
author = "Das Kursteam"
copyright = "2026, Das Kursteam"
language = "de"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
    "sphinx_togglebutton",
    "sphinx_copybutton",
    "sphinxcontrib.programoutput",
    "german_ui",  # source/_ext/german_ui.py: furos eigene Texte auf Deutsch
    "aufgaben_notebooks",  # source/_ext/aufgaben_notebooks.py: die Aufgaben als Notebook zum Herunterladen
    "cached_output",  # source/_ext/cached_output.py: langsame Beispiele, nach dem Hash ihrer Quellen zwischengespeichert
    "selbsttest",  # source/_ext/selbsttest.py: Verständnisfragen in den Lektionen
]
# Deutsche Texte für furo und Sphinx, die deren Kataloge nicht übersetzen (siehe german_ui.py).
locale_dirs = ["_locale"]

exclude_patterns = ["_build", "_generated", "_ext", "_locale"]
html_theme = "furo"
html_title = "PyTorch-Checkpoints"

autodoc_typehints = "none"
autodoc_member_order = "bysource"
napoleon_google_docstring = True
napoleon_numpy_docstring = False

# Der Kopierknopf lässt die Prompts ">>> " und "... " der Doctest-Beispiele weg.
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True

# Die Aufklappblöcke mit den Lösungen.
togglebutton_hint = "Lösung anzeigen"
togglebutton_hint_hide = "Lösung verbergen"
# Beim Drucken sind die Lösungen aufgeklappt (Papier lässt sich nicht anklicken). Ein Ausdruck ohne
# Lösungen entsteht aus der Ausgabe für Studierende (make html-student).
togglebutton_open_on_print = True

# Rechtschreibprüfung (make spelling): braucht die C-Bibliothek Enchant und das deutsche
# Hunspell-Wörterbuch (Debian: libenchant-2-2, hunspell-de-de), deshalb nur auf Wunsch geladen.
if tags.has("spelling"):  # noqa: F821 (tags stellt Sphinx bereit)
    extensions.append("sphinxcontrib.spelling")
    spelling_lang = "de_DE"
    spelling_word_list_filename = "wortliste.txt"
    spelling_show_suggestions = True
    spelling_warning = True

# Ausgabe für Studierende (make html-student): ohne Musterlösungen. Die Lösungsblöcke der Lektionen
# stehen in ".. only:: not student", die Seiten mit den vollständigen Lösungsmodulen fehlen ganz.
if tags.has("student"):  # noqa: F821
    exclude_patterns.append("*_source.rst")
    suppress_warnings = ["toc.excluded"]  # gewollt: die Musterlösungen fehlen im Inhaltsverzeichnis

html_static_path = ["source/_static"]
html_favicon = "source/_static/favicon.svg"


FIGURE_SOURCES = ["course/resume_figure.py", "course/exact_training.py", "course/training.py",
                  "solutions/checkpoints.py", "solutions/training_state.py"]
# Je Abbildung: das Modul mit build(zielordner), seine Quellen und die Datei mit ihrem Stand.
FIGURES = [
    ("course.resume_figure", FIGURE_SOURCES, "stand.txt"),  # Lektion „Training exakt fortsetzen“
    ("course.rotation_figure", ["course/rotation_figure.py", "solutions/verwaltung.py"],
     "stand_verwaltung.txt"),  # Lektion „Checkpoints verwalten“
    ("course.distributed_benchmark", ["course/distributed_benchmark.py"],
     "stand_verteilt_messung.txt"),  # Lektion „Große Modelle und verteiltes Training“ (etwa zwei Minuten)
]


def generate_figures(app):
    """Die Abbildungen der Lektionen, jede neu nur, wenn sich ihre Quellen ändern."""
    import importlib

    target = Path(app.srcdir) / "_generated"
    for module, sources, stamp_name in FIGURES:
        digest = hashlib.sha256(b"".join((ROOT / source).read_bytes() for source in sources)).hexdigest()
        stamp = target / stamp_name
        if stamp.exists() and stamp.read_text() == digest:
            continue
        importlib.import_module(module).build(target)  # importiert torch: nur wenn wirklich nötig
        stamp.write_text(digest)


def setup(app):
    app.connect("builder-inited", generate_figures)
