"""The student edition (make html-student) contains no line of any solution, anywhere."""

import ast
import html
import re
from pathlib import Path

import pytest

from grader.rubric import tasks_of
from tests.test_browser import SELF_CHECK_LESSONS

REPO = Path(__file__).resolve().parent.parent
MIN_LENGTH = 20  # shorter lines ("return 0") are not distinctive


# Blocks of a lesson source that the student edition shows but that must not count as "taught": a hint
# or a self-check question that quoted a line of the solution would otherwise hide its own leak.
NOT_TEACHING = re.compile(r"(\s*)\.\. (admonition:: Hinweis|selbsttest::)")


def without_hints_and_questions(text):
    """``text`` (reStructuredText) without hint blocks and self-check questions."""
    kept, indent = [], None
    for line in text.splitlines():
        if indent is not None and (not line.strip() or len(line) - len(line.lstrip()) > indent):
            continue
        indent = None
        block = NOT_TEACHING.match(line)
        if block:
            indent = len(block.group(1))
        else:
            kept.append(line)
    return "\n".join(kept)


def taught_elsewhere():
    """Text the lessons show on purpose: the lesson sources (without hints and questions), their examples,
    the course code and the stubs (exercises/*.py, also offered as notebooks: code given in a stub, such as a
    helper, is no leak)."""
    lessons = [without_hints_and_questions(path.read_text(encoding="utf-8")) for path in (REPO / "source").rglob("*.rst")]
    files = [*(REPO / "source" / "examples").glob("*.py"), *(REPO / "course").glob("*.py"), *(REPO / "exercises").glob("*.py")]
    return "\n".join([*lessons, *(path.read_text(encoding="utf-8") for path in files)])


def distinctive_solution_lines(taught=None):
    """Code lines of every solution function body, without docstrings, that no lesson shows on purpose."""
    taught = taught_elsewhere() if taught is None else taught
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
    assert 'class="dropdown admonition"' not in page  # no solution block (hints are "dropdown hint")
    assert '<p class="admonition-title">Lösung anzeigen</p>' not in page


@pytest.mark.parametrize("lesson", SELF_CHECK_LESSONS, ids=lambda lesson: lesson.page)
def test_student_edition_keeps_hints_and_questions(student_site, lesson):
    page = (student_site / f"{lesson.page}.html").read_text(encoding="utf-8")
    assert 4 <= page.count('class="selbsttest"') <= 6
    for task in tasks_of(lesson):
        start = page.index(f'<span id="aufgabe-{task.number}"></span>')
        section = page[start:page.index("</section>", start)]
        assert 2 <= section.count('class="dropdown hint admonition"') <= 3, f"Aufgabe {task.number}"
        assert "Hinweis 1: Worum es geht" in section


def test_a_solution_line_quoted_in_a_hint_or_question_counts_as_a_leak():
    """Hints and questions do not make a solution line "taught": quoted there, it would be found."""
    lines = distinctive_solution_lines()
    line = sorted(lines)[0]
    lesson = (REPO / "source" / "checkpoints.rst").read_text(encoding="utf-8")
    for block in (f".. admonition:: Hinweis 3: Wie der Code aufgebaut ist\n   :class: dropdown hint\n\n   {line}\n",
                  f".. selbsttest:: Frage?\n   :abschnitt: state-dict\n\n   .. richtig:: {line}\n\n      Weil.\n"):
        taught = without_hints_and_questions(lesson + "\n" + block + "\nText danach.\n")
        assert line not in taught and "Text danach." in taught
        assert line in distinctive_solution_lines(taught=taught)
