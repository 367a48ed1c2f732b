"""The rubric, the grading tests and the lesson agree with each other."""

import ast
import re
from pathlib import Path

from grader.rubric import REQUIREMENTS, TASKS, TASKS_BY_NUMBER

REPO = Path(__file__).resolve().parent.parent


def requirement_markers():
    """Map each grading test function to the requirement ids of its markers."""
    markers = {}
    for path in (REPO / "tests" / "grading").glob("test_*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                markers[f"{path.name}::{node.name}"] = [
                    decorator.args[0].value
                    for decorator in node.decorator_list
                    if isinstance(decorator, ast.Call) and ast.unparse(decorator.func) == "pytest.mark.requirement"
                ]
    return markers


def test_every_grading_test_names_one_known_requirement_and_every_requirement_is_tested():
    markers = requirement_markers()
    assert markers and all(len(ids) == 1 for ids in markers.values()), markers
    assert {ids[0] for ids in markers.values()} == {requirement.id for requirement in REQUIREMENTS}


def test_every_requirement_points_to_a_section_of_its_lesson():
    for requirement in REQUIREMENTS:
        lesson = (REPO / "source" / f"{TASKS_BY_NUMBER[requirement.task].lesson.page}.rst").read_text(encoding="utf-8")
        labels = set(re.findall(r"^\.\. _([\w-]+):$", lesson, flags=re.MULTILINE))
        assert requirement.section in labels, requirement.id
        assert requirement.section_title in lesson.replace("``", ""), requirement.section_title


def test_every_task_has_points():
    assert all(any(r.task == task.number and r.points > 0 for r in REQUIREMENTS) for task in TASKS)
