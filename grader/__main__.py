"""Kommandozeile des Autograders: ``python -m grader [ABGABE] [--json DATEI] [--junit DATEI]``."""

import argparse
import sys
from pathlib import Path

from grader.exports import gradescope_json, junit_xml
from grader.report import scorecard
from grader.results import failed_everywhere
from grader.runner import InternalError, grade
from grader.submission import SubmissionNotFound


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m grader",
        description="Bewertet eine Abgabe zur Lektion „Checkpoints“ und gibt Punkte je Aufgabe aus.",
    )
    parser.add_argument(
        "abgabe", nargs="?", default="exercises",
        help="eine Datei checkpoints.py oder ein Ordner wie exercises/ (Standard: exercises)",
    )
    parser.add_argument("--json", type=Path, help="zusätzlich eine results.json im Format von Gradescope schreiben")
    parser.add_argument("--junit", type=Path, help="zusätzlich einen Bericht im JUnit-XML-Format schreiben")
    args = parser.parse_args(argv)
    try:
        grading = grade(args.abgabe)
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
