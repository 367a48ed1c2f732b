"""The course builds without a single warning and shows what the lessons promise."""

import html
import re
from pathlib import Path

import pytest

from grader.rubric import LESSONS, REQUIREMENTS, TASKS_BY_NUMBER, tasks_of

REPO = Path(__file__).resolve().parent.parent


def text_of(page):
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def page_of(site, name):
    return (site / f"{name}.html").read_text(encoding="utf-8")


def test_start_page_explains_how_to_work(site):
    text = text_of(page_of(site, "index"))
    for expected in ("So arbeiten Sie mit dem Kurs", "make grade", "exercises/checkpoints.py", "Musterlösungen"):
        assert expected in text
    for lesson in LESSONS:
        assert f'href="{lesson.page}.html"' in page_of(site, "index")
        assert f'href="{lesson.page}_source.html"' in page_of(site, "index")


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.page)
def test_lesson_has_page_shape_and_its_tasks(site, lesson):
    page = page_of(site, lesson.page)
    text = text_of(page)
    positions = [text.index(heading) for heading in ("Lernziele", "Voraussetzungen", "Zusammenfassung", "Weiterführende Links")]
    assert positions == sorted(positions)
    tasks = tasks_of(lesson)
    for function in (function for task in tasks for function in task.functions):
        assert f'id="exercises.{lesson.module}.{function}"' in page
    assert page.count('class="dropdown admonition"') == len(tasks)
    assert text.count("Lösung anzeigen") >= len(tasks)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.page)
def test_solutions_are_included_not_copied(site, lesson):
    reference = (REPO / "solutions" / lesson.filename).read_text(encoding="utf-8")
    whole = text_of(page_of(site, f"{lesson.page}_source"))
    code_lines = [line.strip() for line in reference.splitlines() if line.strip()]
    assert all(line in whole for line in code_lines)


def test_example_output_is_generated_at_build_time(site):
    text = text_of(page_of(site, "checkpoints"))
    assert re.search(r"1\.running_mean\s+Buffer\s+Form \(8,\)", text)
    assert re.search(r"ohne Optimiererzustand:\s+größte Abweichung der Gewichte 0\.[0-9]*[1-9]", text)
    assert re.search(r"mit Optimiererzustand:\s+größte Abweichung der Gewichte 0\.000000", text)


def test_resume_figure_and_its_numbers(site):
    page = page_of(site, "trainingszustand")
    assert re.search(r'<img[^>]+src="_images/fortsetzen\.png"', page)
    assert (site / "_images" / "fortsetzen.png").stat().st_size > 10_000
    cells = re.findall(r"<td><p>(fortgesetzt [^<]+)</p></td>\s*<td><p>([0-9,e+-]+)</p></td>", page)
    differences = {label: float(value.replace(",", ".")) for label, value in cells}
    assert differences["fortgesetzt mit vollständigem Zustand (Lektion 2)"] == 0.0
    assert differences["fortgesetzt mit Checkpoint aus Lektion 1"] > 1e-3
    assert differences["fortgesetzt nur mit dem Modell"] > 1e-3


def test_every_grader_pointer_leads_to_an_anchor(site):
    for requirement in REQUIREMENTS:
        page = page_of(site, TASKS_BY_NUMBER[requirement.task].lesson.page)
        assert f'id="{requirement.section}"' in page, requirement.section
