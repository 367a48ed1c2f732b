"""Notebooks als Abgabe: aus den Codezellen eines Jupyter-Notebooks das Modul, das bewertet wird.

Die Umwandlung läuft auf der vertrauenswürdigen Seite und führt nichts aus: Sie liest das Notebook
als JSON, zerlegt jede Codezelle einzeln mit ``ast`` und schreibt den Quelltext eines Moduls, das
danach genau wie eine abgegebene ``.py``-Datei bewertet wird.

Die Regel: Aus den Codezellen übernommen werden, in ihrer Reihenfolge,

* ``import …`` und ``from … import …``,
* Funktions- und Klassendefinitionen (mit ihren Dekoratoren),
* einfache Zuweisungen: rechts nur Literale, Namen, Attribute, ``lambda``, Operatoren, Tupel,
  Listen und Dictionaries daraus und Aufrufe von ``re.compile``, ``logging.getLogger``,
  ``pathlib.Path`` und ``torch.device`` mit solchen Argumenten.

Alles andere (Aufrufe, Schleifen, ``if``, ``with``, ``try`` …) läuft bei der Bewertung nicht, und die
Rückmeldung nennt die Zellen, aus denen etwas ausgelassen wurde. IPython-Befehle (``%pip``, ``!ls``,
``objekt?``) fallen weg, Zellen mit einer Zellenmagie (``%%bash``) ebenso. Eine Zelle mit
Syntaxfehler wird ausgelassen; steht in ihr aber eine Definition, die eine Aufgabe braucht (ihre
Funktion oder Klasse oder etwas, das diese verwendet), bekommt die Aufgabe 0 Punkte wie bei einer
``.py``-Datei mit Syntaxfehler. Zellen mit dem Tag ``bewertung`` (die Zelle, die das Notebook selbst
bewertet) lässt die Umwandlung ohne Hinweis aus. Zellen zählen ab 1 von oben, Markdown-Zellen
mitgezählt.
"""

import ast
import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from grader.rubric import tasks_of
from grader.text import cap

SUFFIX = ".ipynb"
GRADING_TAG = "bewertung"
SIMPLE_CALLS = frozenset({"re.compile", "logging.getLogger", "pathlib.Path", "Path", "torch.device"})
# Zeilen mit IPython-Befehlen: %pip …, !ls …, objekt? (nicht aber != am Zeilenanfang).
COMMAND_LINE = re.compile(r"^\s*(?:%|!(?!=)|[A-Za-z_][\w.]*\?{1,2}\s*$)")
# Was eine Zelle definiert, auch wenn sie sich nicht übersetzen lässt (nur Zeilen ohne Einrückung).
DEFINITION = re.compile(r"^(?:async\s+def|def|class)\s+([A-Za-z_]\w*)|^([A-Za-z_]\w*)\s*(?::[^=\n]*)?=(?!=)")
IMPORT = re.compile(r"^import\s+(.+)|^from\s+\S+\s+import\s+(.+)")
LISTED = 3  # so viele Zellen nennt ein Hinweis, dann „dazu N weitere“
HEADER = "# Erzeugt vom Bewerter aus {name}: nur Importe, Definitionen und einfache Zuweisungen."


class NotebookError(Exception):
    """Die Datei lässt sich nicht als Notebook lesen; die Meldung sagt es auf Deutsch."""


@dataclass(frozen=True)
class Cell:
    number: int  # Position im Notebook ab 1, Markdown-Zellen mitgezählt
    source: str
    tags: tuple = ()


@dataclass
class Unusable:
    """Eine Zelle, die sich nicht übernehmen lässt, und was sie definiert."""

    cell: Cell
    reason: str  # deutscher Satzanfang, etwa „Syntaxfehler in a.ipynb, Zelle 3, Zeile 2: …“
    names: set


@dataclass
class Conversion:
    """Das Modul aus einem Notebook, die Hinweise dazu und die Aufgaben, die es nicht bewerten kann."""

    name: str  # Dateiname des Notebooks
    module: str = ""  # Quelltext des Moduls, das bewertet wird
    origins: list = field(default_factory=list)  # je Zeile des Moduls (Zelle, Zeile) oder None
    remarks: list = field(default_factory=list)
    broken_tasks: dict = field(default_factory=dict)  # Nummer der Aufgabe → Meldung (0 Punkte)

    def place(self, line):
        """„Zelle 4, Zeile 2“ für eine Zeile des erzeugten Moduls (ab 1), sonst None."""
        origin = self.origins[line - 1] if 0 < line <= len(self.origins) else None
        return f"Zelle {origin[0]}, Zeile {origin[1]}" if origin else None

    def relocate(self, message, filename):
        """``message`` mit Fundstellen im Notebook statt in ``filename``, dem erzeugten Modul."""
        def importing(match):
            place = self.place(int(match.group(1)))
            return f"{self.name} lässt sich nicht importieren ({place})" if place else match.group(0)

        def located(match):
            place = self.place(int(match.group(1)))
            return f"{self.name}, {place}" if place else match.group(0)

        name = re.escape(filename)
        message = re.sub(rf"\b{name} lässt sich nicht importieren \(Zeile (\d+)\)", importing, message)
        return re.sub(rf"\b{name}, Zeile (\d+)", located, message)


def read_cells(path):
    """Die Codezellen eines Notebooks (Format 4), gelesen als JSON, ohne etwas auszuführen."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise NotebookError(f"{path.name} ist keine Textdatei in UTF-8 und damit kein Notebook.") from None
    except json.JSONDecodeError as error:
        raise NotebookError(f"{path.name} ist kein gültiges Notebook: JSON-Fehler in Zeile {error.lineno} "
                            f"({error.msg}).") from None
    cells = document.get("cells") if isinstance(document, dict) else None
    if not isinstance(cells, list):
        raise NotebookError(f"{path.name} ist kein Jupyter-Notebook im Format 4: Die Liste „cells“ fehlt.")
    found = []
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(part for part in source if isinstance(part, str)) if isinstance(source, list) else source
        metadata = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        tags = metadata.get("tags") if isinstance(metadata.get("tags"), list) else []
        if isinstance(source, str):
            found.append(Cell(number, source.replace("\r\n", "\n").replace("\r", "\n"),
                              tuple(tag for tag in tags if isinstance(tag, str))))
    return found


def parse(source):
    with warnings.catch_warnings():  # e.g. invalid escape sequences: the .py path does not warn either
        warnings.simplefilter("ignore")
        return ast.parse(source)


def parse_cell(cell):
    """``(baum, zeilen, befehle)`` einer Codezelle; ``befehle`` sind die weggelassenen IPython-Zeilen.

    Erst wenn die Zelle so, wie sie ist, kein Python ist, werden IPython-Befehle entfernt (die
    Zeilennummern bleiben). Löst ``SyntaxError`` oder ``ValueError`` aus, wenn auch das nicht hilft.
    """
    lines = cell.source.split("\n")
    try:
        return parse(cell.source), lines, []
    except SyntaxError:
        commands = [(number, line.strip()) for number, line in enumerate(lines, 1) if COMMAND_LINE.match(line)]
        if not commands:
            raise
    cleaned = list(lines)
    for number, _ in commands:
        line = lines[number - 1]
        indent = line[: len(line) - len(line.lstrip())]
        cleaned[number - 1] = f"{indent}pass" if indent else ""
    return parse("\n".join(cleaned)), cleaned, commands


def dotted(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def simple_value(node):
    """Rechnet der Ausdruck nichts Nennenswertes aus (Literale, Namen, Operatoren, wenige Aufrufe)?"""
    if node is None or isinstance(node, (ast.Constant, ast.Name, ast.Lambda)):
        return True
    if isinstance(node, ast.Call):
        return (dotted(node.func) in SIMPLE_CALLS and all(map(simple_value, node.args))
                and all(simple_value(keyword.value) for keyword in node.keywords))
    if isinstance(node, (ast.Attribute, ast.Starred, ast.FormattedValue, ast.UnaryOp, ast.BinOp, ast.BoolOp,
                         ast.Compare, ast.IfExp, ast.Subscript, ast.Slice, ast.Tuple, ast.List, ast.Set,
                         ast.Dict, ast.JoinedStr)):
        children = [child for child in ast.iter_child_nodes(node) if isinstance(child, ast.expr)]
        return all(map(simple_value, children))
    return False


def simple_target(node):
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(map(simple_target, node.elts))
    if isinstance(node, ast.Starred):
        return simple_target(node.value)
    if isinstance(node, ast.Subscript):
        return simple_target(node.value) and simple_value(node.slice)
    return isinstance(node, ast.Name) or (isinstance(node, ast.Attribute) and dotted(node) is not None)


def kept(node):
    """Übernimmt die Umwandlung diese Anweisung?"""
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return True
    if isinstance(node, ast.Assign):
        return all(map(simple_target, node.targets)) and simple_value(node.value)
    if isinstance(node, ast.AnnAssign):
        return simple_target(node.target) and simple_value(node.annotation) and simple_value(node.value)
    return False


def harmless(node):
    """Anweisungen ohne Wirkung (ein Docstring, ``pass``, ``...``): ausgelassen ohne Hinweis."""
    return isinstance(node, ast.Pass) or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))


def defined_names(node):
    """Die Namen, die eine übernommene Anweisung auf Modulebene bindet."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {alias.asname or alias.name.split(".")[0] for alias in node.names if alias.name != "*"}
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return {name.id for target in targets for name in ast.walk(target)
            if isinstance(name, ast.Name) and isinstance(name.ctx, ast.Store)}


def names_in_broken_cell(source):
    """Was eine unbrauchbare Zelle vermutlich definiert: ``def``, ``class``, Zuweisungen und Importe ohne Einrückung."""
    names = set()
    for line in source.split("\n"):
        if match := DEFINITION.match(line):
            names.add(match.group(1) or match.group(2))
        elif match := IMPORT.match(line):
            for part in (match.group(1) or match.group(2)).strip("() \\").split(","):
                words = part.split()
                if words:
                    names.add(words[-1] if len(words) == 3 and words[1] == "as" else words[0].split(".")[0])
    return names


def span(node):
    first = min([node.lineno] + [decorator.lineno for decorator in getattr(node, "decorator_list", [])])
    return first, node.end_lineno


def segments(tree, lines, cell):
    """Je übernommener Anweisung ``(zeilen, herkunft, ist_future_import)``; dazu die ausgelassenen Anweisungen."""
    spans = [span(node) for node in tree.body]
    taken, skipped = [], []
    for index, node in enumerate(tree.body):
        if harmless(node):
            continue
        if not kept(node):
            skipped.append(node)
            continue
        first, last = spans[index]
        shared = any(other[0] <= last and first <= other[1] for position, other in enumerate(spans) if position != index)
        if shared:  # e.g. "import os; print(os.getcwd())": only this statement, not the whole line
            text = ast.get_source_segment("\n".join(lines), node).split("\n")
            first = node.lineno
        else:
            text = lines[first - 1:last]
        origins = [(cell.number, first + offset) for offset in range(len(text))]
        future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
        taken.append((text, origins, future))
    return taken, skipped


def listing(items, one_more, more_plural):
    """Die ersten Einträge, mit Semikolon getrennt, und wie viele weitere es gibt."""
    text, more = "; ".join(items[:LISTED]), len(items) - LISTED
    return f"{text}; dazu {one_more if more == 1 else f'{more} {more_plural}'}" if more > 0 else text


def convert(path, lesson):
    """Wandelt das Notebook ``path`` der Lektion ``lesson`` in ein Modul um (siehe Modul-Docstring)."""
    name = Path(path).name
    conversion = Conversion(name)
    parts, future_parts, skipped_cells, commands = [], [], [], []
    unusable, definitions = [], {}  # Name → (Zelle, übernommener Knoten); die letzte Definition gilt
    for cell in read_cells(path):
        if GRADING_TAG in cell.tags or not cell.source.strip():
            continue
        first_line = next(line.strip() for line in cell.source.split("\n") if line.strip())
        if first_line.startswith("%%"):
            reason = f"{name}, Zelle {cell.number} beginnt mit der Zellenmagie {first_line.split()[0]} und ist keine Python-Zelle"
            unusable.append(Unusable(cell, reason, names_in_broken_cell(cell.source)))
            continue
        try:
            tree, lines, cell_commands = parse_cell(cell)
        except SyntaxError as error:
            reason = f"Syntaxfehler in {name}, Zelle {cell.number}, Zeile {error.lineno}: {error.msg}"
            unusable.append(Unusable(cell, reason, names_in_broken_cell(cell.source)))
            continue
        except ValueError as error:  # e.g. NUL bytes
            unusable.append(Unusable(cell, f"{name}, Zelle {cell.number} ist kein gültiger Python-Code: {error}",
                                     names_in_broken_cell(cell.source)))
            continue
        commands += [f"Zelle {cell.number}, Zeile {number}: „{cap(text, 60)}“" for number, text in cell_commands]
        taken, skipped = segments(tree, lines, cell)
        for text, origins, future in taken:
            (future_parts if future else parts).append((text, origins))
        for node in tree.body:
            if kept(node):
                definitions.update({defined: (cell.number, node) for defined in defined_names(node)})
        if skipped:
            first, more = skipped[0], len(skipped) - 1
            skipped_cells.append(f"Zelle {cell.number}, Zeile {first.lineno}: „{cap(lines[first.lineno - 1].strip(), 60)}“"
                                 + ("" if not more else f" und {more} weitere Anweisung{'en' if more > 1 else ''}"))
    assemble(conversion, future_parts + parts)
    broken = find_broken(lesson, definitions, unusable, conversion)
    if skipped_cells:
        conversion.remarks.append(
            f"Aus {name} übernimmt die Bewertung nur Importe, Funktions- und Klassendefinitionen und einfache "
            f"Zuweisungen; ausgelassen: {listing(skipped_cells, '1 weitere Zelle', 'weitere Zellen')}."
        )
    if commands:
        conversion.remarks.append(f"IPython-Befehle in {name} laufen bei der Bewertung nicht: "
                                  f"{listing(commands, '1 weiterer Befehl', 'weitere Befehle')}.")
    for entry in unusable:
        if entry.cell.number not in broken:
            conversion.remarks.append(f"{entry.reason}. Die Zelle wird ausgelassen; keine Aufgabe hängt von ihr ab.")
    return conversion


def assemble(conversion, parts):
    lines, origins = [HEADER.format(name=conversion.name)], [None]
    previous_cell = None
    for text, where in parts:
        if where and where[0][0] != previous_cell:
            lines.append("")
            origins.append(None)
            previous_cell = where[0][0]
        lines += text
        origins += where
    conversion.module = "\n".join(lines) + "\n"
    conversion.origins = origins


def find_broken(lesson, definitions, unusable, conversion):
    """Trägt die Aufgaben ein, die eine unbrauchbare Zelle brauchen; gibt die Nummern dieser Zellen zurück."""
    latest_unusable = {}
    for entry in unusable:
        for defined in entry.names:
            latest_unusable[defined] = entry
    broken_cells = set()
    for task in tasks_of(lesson):
        needed, queue, culprit = set(task.functions), list(task.functions), None
        while queue and culprit is None:
            current = queue.pop()
            entry, valid = latest_unusable.get(current), definitions.get(current)
            if entry and (valid is None or entry.cell.number > valid[0]):
                culprit = (current, entry)
            elif valid:
                for node in ast.walk(valid[1]):
                    if isinstance(node, ast.Name) and node.id not in needed and (
                            node.id in definitions or node.id in latest_unusable):
                        needed.add(node.id)
                        queue.append(node.id)
        if culprit:
            defined, entry = culprit
            broken_cells.add(entry.cell.number)
            conversion.broken_tasks[task.number] = (
                f"{entry.reason}. Aufgabe {task.number} braucht {defined} aus dieser Zelle und wird deshalb "
                "nicht bewertet (0 Punkte)."
            )
    return broken_cells
