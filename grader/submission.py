"""Find the ``checkpoints.py`` of a submission and check its syntax before anything runs."""

from pathlib import Path

MODULE_NAME = "checkpoints.py"


class SubmissionNotFound(Exception):
    """The given path holds no submission; the message says so in German."""


def locate(path):
    """Return the ``checkpoints.py`` of a submission: the file itself or a folder holding it."""
    path = Path(path)
    if path.is_dir():
        candidate = path / MODULE_NAME
        if candidate.is_file():
            return candidate
        raise SubmissionNotFound(f"Im Ordner {path} liegt keine Datei {MODULE_NAME}.")
    if path.is_file():
        if path.name != MODULE_NAME:
            raise SubmissionNotFound(f"Die Abgabe muss {MODULE_NAME} heißen, nicht {path.name}.")
        return path
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
