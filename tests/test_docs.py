"""The course builds without a single warning and shows what the lessons promise."""

import html
import re
from pathlib import Path


from grader.rubric import LESSON_PAGE, REQUIREMENTS

REPO = Path(__file__).resolve().parent.parent


def text_of(page):
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_start_page_explains_how_to_work(site):
    text = text_of((site / "index.html").read_text(encoding="utf-8"))
    for expected in ("So arbeiten Sie mit dem Kurs", "make grade", "exercises/checkpoints.py", "Checkpoints", "Musterlösung"):
        assert expected in text


def test_lesson_has_page_shape_and_both_tasks(site):
    page = (site / LESSON_PAGE).read_text(encoding="utf-8")
    text = text_of(page)
    for heading in ("Lernziele", "Voraussetzungen", "Zusammenfassung", "Weiterführende Links"):
        assert heading in text
    for function in ("save_checkpoint", "load_checkpoint"):
        assert f'id="exercises.checkpoints.{function}"' in page
        assert f"exercises.checkpoints.{function}(" in text.replace("\u200b", "")
    assert page.count('class="dropdown admonition"') == 2
    assert text.count("Lösung anzeigen") >= 2


def test_solutions_are_included_not_copied(site):
    text = text_of((site / LESSON_PAGE).read_text(encoding="utf-8"))
    reference = (REPO / "solutions" / "checkpoints.py").read_text(encoding="utf-8")
    for line in ("torch.save(checkpoint, filename)", "copy.deepcopy(model).load_state_dict(model_state)"):
        assert line in reference and line in text
    whole = text_of((site / "checkpoints_source.html").read_text(encoding="utf-8"))
    code_lines = [line.strip() for line in reference.splitlines() if line.strip()]
    assert all(line in whole for line in code_lines)


def test_example_output_is_generated_at_build_time(site):
    text = text_of((site / LESSON_PAGE).read_text(encoding="utf-8"))
    assert re.search(r"1\.running_mean\s+Buffer\s+Form \(8,\)", text)
    assert re.search(r"ohne Optimiererzustand:\s+größte Abweichung der Gewichte 0\.[0-9]*[1-9]", text)
    assert re.search(r"mit Optimiererzustand:\s+größte Abweichung der Gewichte 0\.000000", text)


def test_every_grader_pointer_leads_to_an_anchor(site):
    page = (site / LESSON_PAGE).read_text(encoding="utf-8")
    for requirement in REQUIREMENTS:
        assert f'id="{requirement.section}"' in page, requirement.section
