"""Die Aufgaben als Jupyter-Notebooks, erzeugt aus den Stummeln in ``exercises/`` (nie von Hand bearbeiten).

    python -m course.notebooks              # schreibt exercises/<modul>.ipynb für jede Lektion (make notebooks)
    python -m course.notebooks --pruefen    # prüft nur, ob sie zu den Stummeln passen
    python -m course.notebooks ORDNER       # schreibt in einen anderen Ordner (beim Bauen des Kurses)

Jedes Notebook beginnt mit einer Einleitung und einer Zelle mit den Importen, dann folgt je Funktion
und Klasse des Stummels eine Zelle mit ihrem Docstring; am Ende stehen eine Zelle zum Ausprobieren
und eine Zelle mit dem Tag ``bewertung``, die das Notebook mit dem Bewerter des Kurses bewertet.
Die Lektionen stammen aus ``grader/rubric.py``; eine neue Lektion bekommt ihr Notebook von selbst.
"""

import argparse
import ast
import re
import sys
from pathlib import Path

import nbformat

from grader.notebook import GRADING_TAG, SUFFIX
from grader.rubric import LESSONS, tasks_of
from grader.submission import untouched

REPO = Path(__file__).resolve().parent.parent
EXERCISES = REPO / "exercises"
DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)

INSTRUCTIONS = """\
**So arbeiten Sie mit diesem Notebook**

1. Führen Sie die erste Codezelle aus: Sie importiert, was die Aufgaben brauchen. In Google Colab
   oder in einer Umgebung ohne torch entfernen Sie vorher das `#` vor `%pip install`.
2. Jede Aufgabe steht in einer eigenen Zelle, mit ihrer Beschreibung im Docstring. Ersetzen Sie
   `raise NotImplementedError` durch Ihre Lösung und führen Sie die Zelle aus.
3. Probieren Sie Ihre Funktionen unter „Ausprobieren“ in eigenen Zellen aus.
4. Speichern Sie das Notebook und bewerten Sie es mit der letzten Zelle oder im Kursordner mit
   `make grade ABGABE=exercises/{notebook}`.

Bewertet werden aus den Codezellen nur Importe, Funktions- und Klassendefinitionen und einfache
Zuweisungen wie `GRENZE = 3`. Alles andere, etwa ein Training zum Ausprobieren, läuft bei der
Bewertung nicht; die Rückmeldung nennt solche Zellen. Die Vorlage dieses Notebooks entsteht aus
`exercises/{module}.py`."""

TRY_OUT = """\
## Ausprobieren

Rufen Sie hier Ihre Funktionen auf, etwa mit einem kleinen Modell. Zellen wie diese laufen bei der
Bewertung nicht."""

GRADING = """\
## Bewerten

Speichern Sie das Notebook (Strg+S) und führen Sie die nächste Zelle aus: Sie bewertet die
gespeicherte Datei mit dem Bewerter des Kurses. Das gelingt, wenn das Notebook im Ordner
`exercises/` des Kursrepositorys liegt. Liegt es woanders, etwa in Google Colab, laden Sie es
herunter, legen es in diesen Ordner und rufen im Kursordner `make grade ABGABE=exercises/{notebook}`
auf. Die Zelle selbst bewertet der Bewerter nicht (sie trägt das Tag `bewertung`)."""

GRADING_CODE = """\
# Bewertet die gespeicherte Fassung dieses Notebooks mit dem Bewerter des Kurses.
import subprocess
import sys
from pathlib import Path

notebook = Path("{notebook}").resolve()
course = notebook.parent.parent
if notebook.is_file() and (course / "grader" / "__main__.py").is_file():
    python = course / ".venv" / "bin" / "python"
    python = python if python.is_file() else Path(sys.executable)
    result = subprocess.run([str(python), "-m", "grader", str(notebook)], cwd=course, capture_output=True, text=True)
    print(result.stdout + result.stderr)
else:
    print("Der Bewerter des Kurses liegt nicht neben diesem Notebook. Legen Sie es in den Ordner exercises/ "
          "des Kursrepositorys und führen Sie diese Zelle erneut aus, oder rufen Sie im Kursordner auf:\\n"
          "make grade ABGABE=pfad/zu/{notebook}")"""


def pins():
    """Paketname → ``name==version`` aus ``requirements.txt``."""
    found = {}
    for line in (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if match := re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line.strip()):
            found[match.group(1).lower()] = match.group(0)
    return found


def markdown_of(docstring):
    """Ein Modul-Docstring (reStructuredText) als Markdown: Titel aus der ersten Zeile, Absätze zusammengefügt."""
    text = re.sub(r":\w+:`([^`]+)`", r"`\1`", docstring.replace("``", "`"))
    title, _, rest = text.strip().partition("\n")
    paragraphs = [" ".join(paragraph.split()) for paragraph in rest.strip().split("\n\n") if paragraph.strip()]
    return "\n\n".join([f"# {title.strip().rstrip('.')}", *paragraphs])


def span(node, lines):
    """Erste und letzte Zeile einer Anweisung mit Dekoratoren und den Kommentaren direkt darüber."""
    first = min([node.lineno] + [decorator.lineno for decorator in getattr(node, "decorator_list", [])])
    while first > 1 and lines[first - 2].strip().startswith("#"):
        first -= 1
    return first, node.end_lineno


class Builder:
    """Setzt die Zellen eines Notebooks zusammen; die IDs der Zellen sind fest, damit die Datei gleich bleibt."""

    def __init__(self):
        self.notebook = nbformat.v4.new_notebook()
        self.notebook.metadata = {
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        }
        self.ids = set()

    def add(self, kind, source, identifier, tags=()):
        cell = nbformat.v4.new_markdown_cell(source) if kind == "markdown" else nbformat.v4.new_code_cell(source)
        number, unique = 1, identifier
        while unique in self.ids:
            number += 1
            unique = f"{identifier}-{number}"
        self.ids.add(unique)
        cell.id = unique
        if tags:
            cell.metadata["tags"] = list(tags)
        self.notebook.cells.append(cell)


def build(source, lesson):
    """Das Notebook zu ``source``, dem Quelltext eines Moduls der Lektion (Stummel oder auch Lösung)."""
    tree = ast.parse(source)
    lines = source.split("\n")
    notebook_name = lesson.module + SUFFIX
    tasks = {function: task for task in tasks_of(lesson) for function in task.functions}
    numbers = [task.number for task in tasks_of(lesson)]
    span_text = f"Aufgabe {numbers[0]}" if len(numbers) == 1 else f"Aufgaben {numbers[0]}–{numbers[-1]}"
    body = tree.body[1:] if ast.get_docstring(tree) else tree.body
    builder = Builder()
    title, *paragraphs = markdown_of(ast.get_docstring(tree) or f"Aufgaben zur Lektion „{lesson.title}“").split("\n\n")
    about = f"Dieses Notebook enthält {span_text} des Kurses „PyTorch-Checkpoints“ zur Lektion „{lesson.title}“."
    builder.add("markdown", "\n\n".join([title, about, *paragraphs,
                                          INSTRUCTIONS.format(notebook=notebook_name, module=lesson.module)]), "einleitung")

    setup = []
    while body and not isinstance(body[0], DEFINITIONS):
        setup.append(body.pop(0))
    imported = {alias.name.split(".")[0].lower() for node in setup if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0].lower() for node in setup if isinstance(node, ast.ImportFrom) and node.module}
    needed = [pin for name, pin in pins().items() if name in imported]
    first = ["# In Google Colab oder ohne installiertes torch: das # vor %pip entfernen und die Zelle ausführen.",
             f"# %pip install {' '.join(needed)}"] if needed else []
    if setup:
        first += [""] + lines[span(setup[0], lines)[0] - 1:setup[-1].end_lineno]
    builder.add("code", "\n".join(first).strip("\n"), "importe")

    pending = []  # further statements between definitions, collected into one cell
    for node in body:
        if not isinstance(node, DEFINITIONS):
            pending.append(node)
            continue
        if pending:
            builder.add("code", "\n".join(lines[span(pending[0], lines)[0] - 1:pending[-1].end_lineno]), "code")
            pending = []
        task = tasks.get(node.name)
        heading = (f"## Aufgabe {task.number}: {task.title} – `{node.name}`" if task
                   else f"## Hilfs{'klasse' if isinstance(node, ast.ClassDef) else 'funktion'} `{node.name}`")
        builder.add("markdown", heading, f"titel-{node.name}")
        first_line, last_line = span(node, lines)
        builder.add("code", "\n".join(lines[first_line - 1:last_line]), f"code-{node.name}")
    if pending:
        builder.add("code", "\n".join(lines[span(pending[0], lines)[0] - 1:pending[-1].end_lineno]), "code")

    builder.add("markdown", TRY_OUT, "ausprobieren")
    builder.add("code", "# Platz zum Ausprobieren; diese Zelle läuft bei der Bewertung nicht.", "versuche")
    builder.add("markdown", GRADING.format(notebook=notebook_name), "bewerten")
    builder.add("code", GRADING_CODE.format(notebook=notebook_name), "bewertung", tags=[GRADING_TAG])
    return builder.notebook


def render(notebook):
    """Der Text der Notebook-Datei (JSON wie von Jupyter geschrieben, mit Zeilenende)."""
    return nbformat.writes(notebook).rstrip("\n") + "\n"


def expected(stubs=EXERCISES):
    """Dateiname → erwarteter Inhalt des Notebooks jeder Lektion, aus den Stummeln in ``stubs``."""
    return {lesson.module + SUFFIX: render(build((Path(stubs) / lesson.filename).read_text(encoding="utf-8"), lesson))
            for lesson in LESSONS}


def stale(folder=EXERCISES, stubs=EXERCISES):
    """Die Notebooks in ``folder``, die fehlen oder nicht zu den Stummeln passen."""
    return [name for name, text in expected(stubs).items()
            if not (Path(folder) / name).is_file() or (Path(folder) / name).read_text(encoding="utf-8") != text]


def write(folder=EXERCISES, force=False):
    """Schreibt die Notebooks nach ``folder``; bearbeitete Notebooks bleiben ohne ``force`` unangetastet.

    Gibt ``(geschrieben, übersprungen)`` zurück, zwei Listen von Dateinamen.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written, kept = [], []
    lessons = {lesson.module + SUFFIX: lesson for lesson in LESSONS}
    for name, text in expected().items():
        target = folder / name
        if target.is_file() and target.read_text(encoding="utf-8") == text:
            continue
        if target.is_file() and not force and not still_stub(target, lessons[name]):
            kept.append(name)
            continue
        target.write_text(text, encoding="utf-8")
        written.append(name)
    return written, kept


def still_stub(path, lesson):
    """Enthält das Notebook noch die unbearbeiteten Aufgaben (darf also überschrieben werden)?"""
    from grader.notebook import NotebookError, convert

    try:
        conversion = convert(path, lesson)
    except NotebookError:
        return False
    return not conversion.broken_tasks and untouched(conversion.module, lesson)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m course.notebooks",
                                     description="Erzeugt die Aufgaben jeder Lektion als Jupyter-Notebook.")
    parser.add_argument("ordner", nargs="?", type=Path, default=EXERCISES,
                        help="wohin die Notebooks geschrieben werden (Standard: exercises/)")
    parser.add_argument("--pruefen", action="store_true", help="nur prüfen, ob die Notebooks aktuell sind")
    parser.add_argument("--erzwingen", action="store_true", help="auch bearbeitete Notebooks überschreiben")
    args = parser.parse_args(argv)
    if args.pruefen:
        outdated = stale(args.ordner)
        for name in outdated:
            print(f"{args.ordner / name} passt nicht zum Stummel; erzeugen Sie es neu mit make notebooks.")
        return 1 if outdated else 0
    written, kept = write(args.ordner, force=args.erzwingen)
    for name in written:
        print(f"Geschrieben: {args.ordner / name}")
    for name in kept:
        print(f"Nicht überschrieben: {args.ordner / name} enthält bearbeitete Aufgaben (überschreiben mit --erzwingen).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
