"""Shared fixtures of the project's own tests: the built site (full and student edition)."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "_build" / "test-artifacts"


def build_site(output, doctrees, *options):
    """Build the course like ``make html``: zero warnings allowed."""
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-c", str(REPO), "-d", str(doctrees),
         "-n", "-W", "--keep-going", "-q", *options, str(REPO / "source"), str(output)],
        capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr
    return output


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    return build_site(root / "html", root / "doctrees")


@pytest.fixture(scope="session")
def student_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site-student")
    return build_site(root / "html", root / "doctrees", "-t", "student")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can react to a failure."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report
