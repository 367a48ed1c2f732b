"""Grade a whole class: ``python -m grader.batch ABGABEN [--ausgabe ORDNER]``.

Each subfolder of ABGABEN is one student's submission (laid out like ``exercises/`` or holding
just ``checkpoints.py``); the folder name is the student's id. Writes ``noten.csv`` and one
Markdown feedback file per student, shows a progress bar and prints a summary.
"""

import argparse
import csv
import os
import sys
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tqdm import tqdm

from grader.exports import csv_header, csv_row
from grader.report import feedback_markdown
from grader.results import failed_everywhere
from grader.rubric import TASKS
from grader.runner import NO_SANDBOX_NOTICE, InternalError, Lane, grade
from grader.sandbox import INSTALL_HINT, bubblewrap
from grader.text import cap
from grader.submission import SubmissionNotFound

FEEDBACK_FOLDER = "rueckmeldungen"
GRADES_FILE = "noten.csv"


def find_submissions(folder):
    """Student id → submission folder, sorted by id; hidden folders are skipped."""
    return {entry.name: entry for entry in sorted(Path(folder).iterdir()) if entry.is_dir() and not entry.name.startswith(".")}


def grade_student(student, folder, lanes, sandboxed=None, **limits):
    """Grade one student's folder in this thread's lane (started on first use)."""
    if not hasattr(lanes.local, "lane"):
        lanes.local.lane = Lane(sandboxed=sandboxed)
        with lanes.lock:
            lanes.all.append(lanes.local.lane)
    try:
        return grade(folder, label=student, lane=lanes.local.lane, sandboxed=sandboxed, **limits)
    except SubmissionNotFound as error:
        return failed_everywhere(student, "keine Abgabe", str(error))
    except InternalError as error:  # one broken grading must not cost the whole class its results
        return failed_everywhere(student, "Absturz", f"Interner Fehler der Bewertung: {cap(str(error), 300)}")


class Lanes:
    """One trusted grading process per thread, reused for every submission that thread grades."""

    def __init__(self):
        self.local, self.lock, self.all = threading.local(), threading.Lock(), []

    def close(self):
        for lane in self.all:
            lane.close()


def grade_all(folder, output, workers=None, progress=True, **limits):
    """Grade every submission in ``folder`` in parallel; write the results to ``output``; return them."""
    submissions = find_submissions(folder)
    workers = workers or os.cpu_count() or 1
    lanes = Lanes()
    with ThreadPoolExecutor(max_workers=workers) as pool, tqdm(
        total=len(submissions), desc="Bewertung", unit="Abgabe", disable=not progress, file=sys.stderr
    ) as bar:
        futures = {student: pool.submit(grade_student, student, path, lanes, **limits)
                   for student, path in submissions.items()}
        for future in futures.values():
            future.add_done_callback(lambda _: bar.update())
        try:
            gradings = {student: future.result() for student, future in futures.items()}
        finally:
            lanes.close()
    write_results(gradings, Path(output))
    return gradings


def write_results(gradings, output):
    feedback = output / FEEDBACK_FOLDER
    feedback.mkdir(parents=True, exist_ok=True)
    with open(output / GRADES_FILE, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(csv_header(TASKS))
        for student, grading in gradings.items():
            writer.writerow(csv_row(student, grading, TASKS))
            (feedback / f"{student}.md").write_text(feedback_markdown(student, grading), encoding="utf-8")


def german(value):
    return f"{value:.1f}".replace(".", ",")


def summary(gradings):
    """The German summary printed after a batch: count, statuses, mean, distribution per task."""
    if not gradings:
        return "Keine Abgaben gefunden."
    values = list(gradings.values())
    statuses = Counter(grading.status for grading in values)
    mean = sum(grading.points for grading in values) / len(values)
    lines = [
        f"{len(values)} Abgaben bewertet: " + ", ".join(f"{count} × {status}" for status, count in sorted(statuses.items())),
        f"Mittelwert: {german(mean)} von {max(grading.max_points for grading in values)} Punkten",
    ]
    for task in TASKS:
        results = [grading.task(task.number) for grading in values if grading.task(task.number)]
        if not results:
            continue
        points = Counter(result.points for result in results)
        distribution = ", ".join(f"{p} P.: {points[p]}×" for p in sorted(points, reverse=True))
        task_mean = sum(result.points for result in results) / len(results)
        lines.append(
            f"Aufgabe {task.number} ({task.name}, max. {results[0].max_points} P.): "
            f"Mittel {german(task_mean)}; {distribution}"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m grader.batch",
        description="Bewertet alle Abgaben eines Ordners (ein Unterordner je Studierender).",
    )
    parser.add_argument("abgaben", help="Ordner mit einem Unterordner je Abgabe; der Ordnername ist die Kennung")
    parser.add_argument("--ausgabe", default="bewertung", help="Ordner für noten.csv und die Rückmeldungen (Standard: bewertung)")
    parser.add_argument("--parallel", type=int, default=None, help="so viele Abgaben gleichzeitig (Standard: Zahl der Kerne)")
    parser.add_argument("--ohne-sandbox", action="store_true",
                        help="ohne bubblewrap bewerten: Jede Abgabe kann dann die anderen und die Musterlösung lesen")
    args = parser.parse_args(argv)
    if not Path(args.abgaben).is_dir():
        print(f"Fehler: Der Ordner {args.abgaben} existiert nicht.", file=sys.stderr)
        return 2
    sandboxed = bubblewrap() is not None
    if not sandboxed and not args.ohne_sandbox:
        print("Fehler: Ohne Sandbox bewertet make grade-all nicht, denn sonst kann jede Abgabe die anderen "
              f"Abgaben und die Musterlösung lesen. {INSTALL_HINT} Wer es trotzdem will: "
              "make grade-all ABGABEN=… OHNE_SANDBOX=1.", file=sys.stderr)
        return 2
    if not sandboxed:
        print(NO_SANDBOX_NOTICE, file=sys.stderr)
    try:
        gradings = grade_all(args.abgaben, args.ausgabe, workers=args.parallel, sandboxed=sandboxed)
    except InternalError as error:
        print(f"Interner Fehler des Bewerters: {error}", file=sys.stderr)
        return 2
    print(summary(gradings))
    print(f"Ergebnisse: {Path(args.ausgabe) / GRADES_FILE}, Rückmeldungen: {Path(args.ausgabe) / FEEDBACK_FOLDER}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
