"""Find the modules of a submission (``.py`` or Jupyter notebook) and check their syntax before anything runs."""

import ast
from dataclasses import dataclass, field
from pathlib import Path

from grader import notebook
from grader.rubric import LESSONS, tasks_of

NOTEBOOKS_TOO = "Notebooks mit denselben Namen (etwa checkpoints.ipynb) gelten ebenso."


class SubmissionNotFound(Exception):
    """The given path holds no submission; the message says so in German."""


def notebook_name(lesson):
    return lesson.module + notebook.SUFFIX


def locate(path):
    """Return ``(folder, lessons)``: where the submission's modules lie and which lessons it covers.

    A single file (``checkpoints.py`` or ``checkpoints.ipynb``) grades the lesson it belongs to; a
    folder laid out like ``exercises/`` grades every lesson (a module missing from it then scores zero).
    """
    path = Path(path)
    names = ", ".join(lesson.filename for lesson in LESSONS)
    if path.is_dir():
        if not any((path / name).is_file() for lesson in LESSONS for name in (lesson.filename, notebook_name(lesson))):
            raise SubmissionNotFound(f"Im Ordner {path} liegt keine der Dateien {names}. {NOTEBOOKS_TOO}")
        return path, LESSONS
    if path.is_file():
        lessons = tuple(lesson for lesson in LESSONS if path.name in (lesson.filename, notebook_name(lesson)))
        if not lessons:
            raise SubmissionNotFound(f"Die Abgabe muss eine der Dateien {names} sein, nicht {path.name}. {NOTEBOOKS_TOO}")
        return path.parent, lessons
    raise SubmissionNotFound(f"Die Abgabe {path} gibt es nicht.")


def syntax_error(module_path):
    """A German sentence naming file and line of a syntax error, or None."""
    try:
        source = Path(module_path).read_bytes()
        compile(source, str(module_path), "exec")
    except SyntaxError as error:
        return f"Syntaxfehler in {Path(module_path).name}, Zeile {error.lineno}: {error.msg}"
    except ValueError as error:  # e.g. NUL bytes in the file
        return f"{Path(module_path).name} ist keine gültige Python-Datei: {error}"
    return None


def untouched(source, lesson):
    """Is this module's code still the stub: every function of the lesson's tasks raises NotImplementedError?"""
    try:
        tree = notebook.parse(source)
    except (SyntaxError, ValueError):
        return False
    names = {name for task in tasks_of(lesson) for name in task.functions}
    functions = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in names:
            functions.append(node)
        elif isinstance(node, ast.ClassDef) and node.name in names:
            functions += [item for item in node.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))]
    return bool(functions) and all(
        any(isinstance(statement, ast.Raise) and statement.exc is not None
            and "NotImplementedError" in ast.unparse(statement.exc) for statement in function.body)
        for function in functions
    )


@dataclass
class Prepared:
    """What the checks before grading found: the file per lesson, notebook conversions, notices."""

    folder: Path = None  # where the submission's files lie
    whole_folder: bool = False  # a folder was submitted (staged as a whole), not a single file
    files: dict = field(default_factory=dict)  # module → Path of the graded file
    conversions: dict = field(default_factory=dict)  # module → notebook.Conversion
    notices: dict = field(default_factory=dict)  # task number → why the task scores zero before any test runs
    zeroed: set = field(default_factory=set)  # tasks of a runnable lesson that score zero all the same
    runnable: list = field(default_factory=list)  # lessons whose grading tests run
    syntax_errors: bool = False
    remarks: list = field(default_factory=list)  # German notices on the whole submission


def prepare(path, folder, lessons):
    """Choose the file of every lesson, convert notebooks and check the syntax; nothing of the submission runs."""
    path = Path(path)
    prepared = Prepared(folder=Path(folder), whole_folder=path.is_dir())
    for lesson in lessons:
        module, conversion, problem = choose(path, folder, lesson, prepared.remarks)
        tasks = tasks_of(lesson)
        if module is None:
            problem = f"Die Datei {lesson.filename} fehlt in der Abgabe."
        elif conversion is not None:
            prepared.conversions[lesson.module] = conversion
            prepared.remarks += conversion.remarks
            prepared.notices.update(conversion.broken_tasks)
            prepared.syntax_errors |= bool(conversion.broken_tasks)
            if len(conversion.broken_tasks) == len(tasks):
                continue  # nothing of this lesson is left to grade
            prepared.zeroed |= set(conversion.broken_tasks)
        else:
            problem = problem or syntax_error(module)  # an unreadable notebook counts as a syntax error
            prepared.syntax_errors |= problem is not None
        if problem:
            prepared.notices.update({task.number: problem for task in tasks})
        else:
            prepared.files[lesson.module] = module
            prepared.runnable.append(lesson)
    return prepared


def choose(path, folder, lesson, remarks):
    """``(file, conversion, problem)`` of one lesson; with ``.py`` and notebook side by side, the one worked on.

    If one of the two is still the untouched stub, the other one counts; otherwise the ``.py`` file.
    The choice is named in ``remarks`` unless it is the ``.py`` file beside an untouched notebook.
    """
    if path.is_file():
        candidates = [path]
    else:
        candidates = [folder / name for name in (lesson.filename, notebook_name(lesson)) if (folder / name).is_file()]
    if not candidates:
        return None, None, None
    conversion = problem = None
    script = next((candidate for candidate in candidates if candidate.suffix == ".py"), None)
    book = next((candidate for candidate in candidates if candidate.suffix == notebook.SUFFIX), None)
    if book is not None:
        try:
            conversion = notebook.convert(book, lesson)
        except notebook.NotebookError as error:
            problem = str(error)
    if script is None:
        return book, conversion, problem
    if book is None:
        return script, None, None
    book_untouched = conversion is not None and not conversion.broken_tasks and untouched(conversion.module, lesson)
    script_untouched = untouched(script.read_text(encoding="utf-8", errors="replace"), lesson)
    if script_untouched and not book_untouched:
        remarks.append(f"Bewertet wird {book.name}: {script.name} daneben ist noch der unveränderte Stummel.")
        return book, conversion, problem
    if not book_untouched:
        remarks.append(f"Im Ordner liegen {script.name} und {book.name}, beide bearbeitet; bewertet wird "
                       f"{script.name}. Soll das Notebook zählen, geben Sie es einzeln an "
                       f"(make grade ABGABE=…/{book.name}) oder löschen Sie {script.name}.")
    return script, None, None
