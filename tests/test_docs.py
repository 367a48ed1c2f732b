"""The course builds without a single warning and shows what the lessons promise."""

import html
import re
import subprocess
import sys
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
    cells = re.findall(r"<td><p>(fortgesetzt [^<]+)</p></td>\s*<td><p>([^<]+)</p></td>\s*<td><p>([^<]+)</p></td>", page)
    table = {label: (distance, largest) for label, distance, largest in cells}
    assert table["fortgesetzt mit vollständigem Zustand (Lektion 2)"] == ("0", "0")
    for label in ("fortgesetzt mit Checkpoint aus Lektion 1", "fortgesetzt nur mit dem Modell"):
        for value in table[label]:
            mean, low, high = (float(number.replace(",", ".")) for number in re.findall(r"[0-9]+,[0-9]+", value))
            assert 0 < low <= mean <= high, value
    assert "Mit vollständigem Zustand sind die Gewichte bei jedem Startwert bitgenau gleich." in text_of(page)


def test_broken_file_table_is_the_output_of_its_program(site):
    """The exceptions per broken file are executed at build time, not typed in."""
    output = subprocess.run([sys.executable, "examples/broken_files_example.py"], cwd=REPO / "source",
                            capture_output=True, text=True, check=True, timeout=300).stdout
    text = text_of(page_of(site, "checkpoints"))
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    assert len(lines) > 15
    for line in lines:
        assert re.sub(r"\s+", " ", line) in re.sub(r"\s+", " ", text), line
    # What the prose around the output says must be in the output.
    rows, kind = {}, None
    for line in output.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) == 3:
            kind = kind if line.startswith(" ") else cells[0]
            rows.setdefault(kind, set()).add(cells[-2].split(" (")[0])
        elif len(cells) == 2 and line.startswith(" "):
            rows[kind].add(cells[0].split(" (")[0])
    truncated = next(kind for kind in rows if kind.startswith("abgeschnitten"))
    assert rows[truncated] == {"OSError", "RuntimeError", "UnpicklingError"}
    assert rows["Text 'hallo welt\\n'"] == {"KeyError"}
    assert rows["Text 'Hallo Welt\\n'"] == {"UnpicklingError"}
    assert "Alle sind Unterklassen von Exception: True" in output
    assert "Mit strict=False meldet load_state_dict bei anderer Architektur ebenfalls einen RuntimeError." in output
    assert re.search(r"Nach dem RuntimeError haben schon [1-9]\d* von \d+ Tensoren des Modells neue Werte", output)


def test_every_grader_pointer_leads_to_an_anchor(site):
    for requirement in REQUIREMENTS:
        page = page_of(site, TASKS_BY_NUMBER[requirement.task].lesson.page)
        assert f'id="{requirement.section}"' in page, requirement.section


def test_fixed_english_theme_texts_are_replaced_and_a_changed_theme_stops_the_build():
    sys.path.insert(0, str(REPO / "source" / "_ext"))
    try:
        import german_ui
    finally:
        sys.path.pop(0)
    from sphinx.errors import ExtensionError

    page = "<a>x</a>" + "".join(english * count for english, _, count in german_ui.HARDCODED["page.html"])
    translated = german_ui.translate("page.html", page, "furo/page.html")
    assert "Toggle" not in translated and "Made with" not in translated and "Farbschema wechseln" in translated
    with pytest.raises(ExtensionError, match="hat sich furo geändert"):
        german_ui.translate("partials/icons.html", "<title>Inhalt</title>", "furo/partials/icons.html")
