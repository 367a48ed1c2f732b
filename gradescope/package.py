"""Build the Gradescope autograder zip: setup.sh and run_autograder at the top, the grader beside them.

Run: ``make gradescope`` → ``_build/gradescope.zip``.
"""

import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONTENT = ["requirements.txt", "pytest.ini", "grader", "course", "tests/__init__.py", "tests/grading", "solutions"]


def files():
    for entry in CONTENT:
        path = REPO / entry
        candidates = [path] if path.is_file() else sorted(path.rglob("*"))
        for file in candidates:
            if file.is_file() and "__pycache__" not in file.parts:
                yield file, file.relative_to(REPO)


def build(target):
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in ("setup.sh", "run_autograder"):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16  # executable, as Gradescope expects
            archive.writestr(info, (REPO / "gradescope" / name).read_bytes())
        for file, name in files():
            archive.write(file, name.as_posix())
    return target


if __name__ == "__main__":
    print(f"Geschrieben: {build(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / '_build' / 'gradescope.zip')}")
