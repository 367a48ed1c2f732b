"""Kommandozeile des Autograders: ``python -m grader [ABGABE] [--json DATEI] [--junit DATEI]``."""

import argparse
import sys
from pathlib import Path

from grader.exports import gradescope_json, junit_xml
from grader.report import scorecard
from grader.results import failed_everywhere
from grader.rubric import LESSONS, tasks_of
from grader.text import german_list
from grader.runner import NO_SANDBOX_NOTICE, InternalError, grade
from grader.sandbox import bubblewrap
from grader.submission import SubmissionNotFound


def lesson_descriptions():
    descriptions = []
    for lesson in LESSONS:
        numbers = [task.number for task in tasks_of(lesson)]
        span = f"Aufgabe {numbers[0]}" if len(numbers) == 1 else f"Aufgaben {numbers[0]}–{numbers[-1]}"
        descriptions.append(f"„{lesson.title}“ ({lesson.filename}, {span})")
    return descriptions


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m grader",
        description=f"Bewertet eine Abgabe zu den Lektionen {german_list(lesson_descriptions())} und gibt Punkte "
                    "je Aufgabe aus. Die Abgabe läuft in einer Sandbox (bubblewrap).",
    )
    parser.add_argument(
        "abgabe", nargs="?", default="exercises",
        help=f"eine Datei {german_list([lesson.filename for lesson in LESSONS], 'oder')} oder ihr Notebook "
             "(etwa checkpoints.ipynb; nur deren Lektion) oder ein Ordner wie exercises/ (alle Lektionen; "
             "Standard: exercises)",
    )
    parser.add_argument("--json", type=Path, help="zusätzlich eine results.json im Format von Gradescope schreiben")
    parser.add_argument("--junit", type=Path, help="zusätzlich einen Bericht im JUnit-XML-Format schreiben")
    args = parser.parse_args(argv)
    sandboxed = bubblewrap() is not None
    if not sandboxed:
        print(NO_SANDBOX_NOTICE, file=sys.stderr)
    try:
        grading = grade(args.abgabe, sandboxed=sandboxed)
    except SubmissionNotFound as error:
        print(f"Fehler: {error}", file=sys.stderr)
        write_exports(failed_everywhere(args.abgabe, "keine Abgabe", str(error)), args)  # e.g. for Gradescope
        return 2
    except InternalError as error:
        print(f"Interner Fehler des Bewerters: {error}", file=sys.stderr)
        return 2
    write_exports(grading, args)
    print(scorecard(grading))
    return 0 if grading.points == grading.max_points else 1


def write_exports(grading, args):
    for path, render in ((args.json, gradescope_json), (args.junit, junit_xml)):
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render(grading), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
