"""Exports of one grading, all derived from the same per-requirement results as the scorecard."""

import json
import xml.etree.ElementTree as ElementTree

from grader.report import requirement_feedback, scorecard

def gradescope_json(grading):
    """Gradescope's results.json: one test per requirement, scores as on the scorecard."""
    tests = []
    for task in grading.tasks:
        for result in task.requirements:
            tests.append(
                {
                    "name": f"Aufgabe {task.task.number} ({task.task.name}): {result.requirement.description}",
                    "score": result.points,
                    "max_score": result.requirement.points,
                    "status": "passed" if result.passed else "failed",
                    "output": "\n".join(requirement_feedback(result, task)),
                    "visibility": "visible",
                }
            )
    document = {
        "score": grading.points,
        "output": scorecard(grading),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def junit_xml(grading):
    """JUnit XML: a test suite per task, a test case per requirement."""
    suites = ElementTree.Element("testsuites", name=f"Bewertung {grading.submission}")
    for task in grading.tasks:
        failed = [result for result in task.requirements if not result.passed]
        suite = ElementTree.SubElement(
            suites, "testsuite",
            name=f"Aufgabe {task.task.number} – {task.task.name}",
            tests=str(len(task.requirements)), failures=str(len(failed)), errors="0", skipped="0",
        )
        for result in task.requirements:
            case = ElementTree.SubElement(
                suite, "testcase",
                classname=f"aufgabe{task.task.number}",
                name=f"{result.requirement.id}: {result.requirement.description}",
            )
            ElementTree.SubElement(case, "properties").extend(
                [
                    ElementTree.Element("property", name="punkte", value=str(result.points)),
                    ElementTree.Element("property", name="max_punkte", value=str(result.requirement.points)),
                ]
            )
            if not result.passed:
                feedback = requirement_feedback(result, task)
                failure = ElementTree.SubElement(case, "failure", message=feedback[0] if feedback else "")
                failure.text = "\n".join(feedback)
    ElementTree.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(suites, encoding="unicode") + "\n"


def csv_header(tasks):
    return ["student"] + [f"aufgabe{task.number}" for task in tasks] + ["summe", "max", "status"]


def csv_row(student, grading, tasks):
    """One row of noten.csv; a task that was not graded stays empty."""
    points = [grading.task(task.number).points if grading.task(task.number) else "" for task in tasks]
    return [student] + points + [grading.points, grading.max_points, grading.status]
