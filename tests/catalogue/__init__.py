"""Known-wrong and known-correct submissions for testing the grader itself.

Each file in ``wrong/`` and ``correct/`` holds only the functions it changes. A submission is the
reference solution with these functions appended: a later ``def`` replaces the earlier one.
"""

from pathlib import Path

CATALOGUE = Path(__file__).resolve().parent
REPO = CATALOGUE.parent.parent
REFERENCE = REPO / "solutions" / "checkpoints.py"


def build_submission(variant, folder):
    """Write ``folder/checkpoints.py``: the reference with the functions of ``variant`` replaced."""
    folder.mkdir(parents=True, exist_ok=True)
    source = REFERENCE.read_text(encoding="utf-8") + "\n\n# --- Variante ---\n" + Path(variant).read_text(encoding="utf-8")
    (folder / "checkpoints.py").write_text(source, encoding="utf-8")
    return folder
