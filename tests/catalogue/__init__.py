"""Known-wrong, known-correct and misbehaving submissions for testing the grader itself.

Each file in ``wrong*/``, ``correct*/`` and ``misbehaving/`` holds only what it changes. A submission
is a base module (the reference solution or the untouched stub) with that code appended: a later
``def`` replaces the earlier one.
"""

from pathlib import Path

CATALOGUE = Path(__file__).resolve().parent
REPO = CATALOGUE.parent.parent
REFERENCE = REPO / "solutions" / "checkpoints.py"
STUB = REPO / "exercises" / "checkpoints.py"
STATE_REFERENCE = REPO / "solutions" / "training_state.py"
ROBUST_REFERENCE = REPO / "solutions" / "robust.py"
MANAGER_REFERENCE = REPO / "solutions" / "verwaltung.py"
DISTRIBUTED_REFERENCE = REPO / "solutions" / "verteilt.py"


def build_submission(variant, folder, base=REFERENCE):
    """Write ``folder/<name of base>``: ``base`` with the code of ``variant`` appended."""
    folder.mkdir(parents=True, exist_ok=True)
    source = base.read_text(encoding="utf-8") + "\n\n# --- Variante ---\n" + Path(variant).read_text(encoding="utf-8")
    (folder / base.name).write_text(source, encoding="utf-8")
    return folder
