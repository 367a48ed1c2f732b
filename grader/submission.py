"""Find the modules of a submission and check their syntax before anything runs."""

from pathlib import Path

from grader.rubric import LESSONS


class SubmissionNotFound(Exception):
    """The given path holds no submission; the message says so in German."""


def locate(path):
    """Return ``(folder, lessons)``: where the submission's modules lie and which lessons it covers.

    A single file grades the lesson it belongs to; a folder laid out like ``exercises/`` grades
    every lesson (a module missing from it then scores zero).
    """
    path = Path(path)
    names = ", ".join(lesson.filename for lesson in LESSONS)
    if path.is_dir():
        if not any((path / lesson.filename).is_file() for lesson in LESSONS):
            raise SubmissionNotFound(f"Im Ordner {path} liegt keine der Dateien {names}.")
        return path, LESSONS
    if path.is_file():
        lessons = tuple(lesson for lesson in LESSONS if lesson.filename == path.name)
        if not lessons:
            raise SubmissionNotFound(f"Die Abgabe muss eine der Dateien {names} sein, nicht {path.name}.")
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
