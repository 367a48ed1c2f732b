"""Kommandozeile des Autograders: ``python -m grader [ABGABE]`` (Standard: exercises/)."""

import argparse
import sys

from grader.report import scorecard
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
    args = parser.parse_args(argv)
    try:
        grading = grade(args.abgabe)
    except SubmissionNotFound as error:
        print(f"Fehler: {error}", file=sys.stderr)
        return 2
    except InternalError as error:
        print(f"Interner Fehler des Bewerters: {error}", file=sys.stderr)
        return 2
    print(scorecard(grading))
    return 0 if grading.points == grading.max_points else 1


if __name__ == "__main__":
    sys.exit(main())
