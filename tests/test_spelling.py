"""German spell check of the lessons and the learner-facing docstrings (make spelling)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module", autouse=True)
def german_dictionary():
    """Enchant with Debian's German Hunspell dictionary; required under CI, else one line what to install."""
    try:
        import enchant

        available = enchant.dict_exists("de_DE")
    except ImportError:
        available = False
    if not available:
        message = "Rechtschreibprüfung nicht möglich: Installieren Sie 'apt-get install libenchant-2-2 hunspell-de-de'."
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def spelling(source, output):
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "spelling", "-t", "spelling", "-c", str(REPO),
         "-d", str(output / "doctrees"), "-n", "-W", "--keep-going", "-q", str(source), str(output / "spelling")],
        capture_output=True, text=True, timeout=900,
    )


def test_lessons_and_docstrings_have_no_spelling_errors(tmp_path):
    result = spelling(REPO / "source", tmp_path)
    assert result.returncode == 0, result.stderr


def test_a_typo_is_found(tmp_path):
    source = tmp_path / "source"
    shutil.copytree(REPO / "source", source)
    lesson = source / "checkpoints.rst"
    lesson.write_text(lesson.read_text(encoding="utf-8").replace("Modell", "Modudle", 1), encoding="utf-8")
    result = spelling(source, tmp_path)
    assert result.returncode != 0
    assert "Modudle" in result.stderr


def test_typos_in_questions_answers_explanations_and_hints_are_found(tmp_path):
    """Self-check questions (question, answers, explanations) and hints are text the checker sees."""
    source = tmp_path / "source"
    shutil.copytree(REPO / "source", source)
    lesson = source / "checkpoints.rst"
    text = lesson.read_text(encoding="utf-8")
    # (block, a word in it, the same word misspelt): question, answer, explanation, hint
    typos = [(".. selbsttest::", "besteht", "bestteht"), (".. falsch::", "Eintrag", "Eintrrag"),
             (".. richtig::", "Parameter", "Parammeter"), (".. admonition:: Hinweis 2", "liefern", "liefferrn")]
    for block, word, typo in typos:
        start = text.index(block)
        assert word in text[start:start + 400], word
        text = text[:start] + text[start:].replace(word, typo, 1)
    lesson.write_text(text, encoding="utf-8")
    result = spelling(source, tmp_path)
    assert result.returncode != 0
    for _, _, typo in typos:
        assert typo in result.stderr, typo
