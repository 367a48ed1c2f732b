"""Every code sample in the lessons runs: included from tested files, run at build time, or doctested."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LESSONS = sorted((REPO / "source").rglob("*.rst"))
# Shell commands (console) are documentation of make targets; those targets are tested themselves.
ALLOWED_LITERAL_LANGUAGES = {"console"}


def sphinx(builder, source, output, *options):
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", builder, "-c", str(REPO), "-d", str(output / "doctrees"),
         "-n", "-W", "--keep-going", "-q", *options, str(source), str(output / builder)],
        capture_output=True, text=True, timeout=900,
    )


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda path: path.name)
def test_no_hand_kept_code(lesson):
    """Code blocks are literalinclude, program-output or doctest, never a copy typed into the page."""
    for number, line in enumerate(lesson.read_text(encoding="utf-8").splitlines(), start=1):
        block = re.match(r"\s*\.\. (code-block|code|sourcecode)::\s*(\S*)", line)
        if block:
            assert block.group(2) in ALLOWED_LITERAL_LANGUAGES, f"{lesson.name}:{number}: {line.strip()}"
        elif line.rstrip().endswith("::") and not re.match(r"\s*\.\. ", line):
            pytest.fail(f"{lesson.name}:{number}: literaler Block ohne Prüfung: {line.strip()}")


def test_doctests_pass(tmp_path):
    result = sphinx("doctest", REPO / "source", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = (tmp_path / "doctest" / "output.txt").read_text(encoding="utf-8")
    assert re.search(r"^\s+[1-9]\d* tests\n\s+0 failures in tests", summary, flags=re.MULTILINE), summary


def copy_of_source(tmp_path):
    copy = tmp_path / "source"
    shutil.copytree(REPO / "source", copy)
    return copy


def test_doctest_with_other_output_fails(tmp_path):
    source = copy_of_source(tmp_path)
    lesson = source / "checkpoints.rst"
    text = lesson.read_text(encoding="utf-8")
    assert "      True\n" in text
    lesson.write_text(text.replace("      True\n", "      False\n", 1), encoding="utf-8")
    result = sphinx("doctest", source, tmp_path)
    assert result.returncode != 0


def test_example_that_raises_fails_the_build(tmp_path):
    source = copy_of_source(tmp_path)
    example = source / "examples" / "state_dict_example.py"
    example.write_text(example.read_text(encoding="utf-8") + "\nraise RuntimeError('kaputt')\n", encoding="utf-8")
    result = sphinx("html", source, tmp_path)
    assert result.returncode != 0
    assert "state_dict_example.py" in result.stderr
