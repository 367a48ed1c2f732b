"""Sphinx-Konfiguration des Kurses (liegt oben im Projekt; der Quelltext liegt in source/)."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
# Die Beispiele der Lektionen laufen beim Bauen mit demselben Python wie Sphinx,
# auch wenn die virtuelle Umgebung nicht aktiviert ist.
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])

project = "PyTorch-Checkpoints"
author = "Das Kursteam"
copyright = "2026, Das Kursteam"
language = "de"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx_togglebutton",
    "sphinx_copybutton",
    "sphinxcontrib.programoutput",
]

exclude_patterns = ["_build"]
html_theme = "furo"
html_title = "PyTorch-Checkpoints"

autodoc_typehints = "none"
autodoc_member_order = "bysource"
napoleon_google_docstring = True
napoleon_numpy_docstring = False

# Die Aufklappblöcke mit den Lösungen.
togglebutton_hint = "Lösung anzeigen"
togglebutton_hint_hide = "Lösung verbergen"
