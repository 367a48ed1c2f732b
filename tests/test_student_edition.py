"""The student edition (make html-student) contains no line of any solution, anywhere."""

import ast
import html
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MIN_LENGTH = 20  # shorter lines ("return 0") are not distinctive


def taught_elsewhere():
    """Text the lessons show on purpose: the lesson sources, their examples, the course code and the stubs
    (exercises/*.py, also offered as notebooks: code given in a stub, such as a helper, is no leak)."""
    files = [*(REPO / "source").rglob("*.rst"), *(REPO / "source" / "examples").glob("*.py"), *(REPO / "course").glob("*.py"),
             *(REPO / "exercises").glob("*.py")]
    return "\n".join(path.read_text(encoding="utf-8") for path in files)


def distinctive_solution_lines():
    """Code lines of every solution function body, without docstrings, that no lesson shows on purpose."""
    taught = taught_elsewhere()
    lines = set()
    for module in sorted((REPO / "solutions").glob("*.py")):
        source = module.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef):
                body = node.body[1:] if ast.get_docstring(node) else node.body
                for statement in body:
                    for line in ast.get_source_segment(source, statement, padded=False).splitlines():
                        code = line.strip()
                        if len(code) >= MIN_LENGTH and not code.startswith("#") and code not in taught:
                            lines.add(code)
    return lines


def all_text(site):
    return {
        path.relative_to(site): path.read_bytes().decode("utf-8", errors="replace")
        for path in site.rglob("*") if path.is_file()
    }


def leaks(site, lines):
    """(file, line) for every solution line found in a file, raw or with HTML markup removed."""
    found = set()
    for path, text in all_text(site).items():
        for candidate in (text, html.unescape(re.sub(r"<[^>]+>", "", text))):
            found |= {(str(path), line) for line in lines if line in candidate}
    return sorted(found)


def test_solution_lines_are_distinctive_and_present_in_full_edition(site):
    lines = distinctive_solution_lines()
    assert len(lines) >= 8
    assert {line for _, line in leaks(site, lines)} == lines  # the check can find every line


def test_student_edition_has_no_solution_anywhere(student_site):
    assert leaks(student_site, distinctive_solution_lines()) == []
    assert not (student_site / "checkpoints_source.html").exists()
    assert not (student_site / ".doctrees").exists()


def test_student_edition_keeps_the_tasks(student_site):
    page = (student_site / "checkpoints.html").read_text(encoding="utf-8")
    assert 'id="exercises.checkpoints.save_checkpoint"' in page
    assert 'id="exercises.checkpoints.load_checkpoint"' in page
    assert "dropdown admonition" not in page
