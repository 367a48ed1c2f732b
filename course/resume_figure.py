"""Die Abbildung der Lektion „Training exakt fortsetzen“: Verlust je Schritt für vier Läufe.

* ohne Unterbrechung,
* unterbrochen und fortgesetzt mit dem vollständigen Trainingszustand (Lektion 2),
* fortgesetzt mit dem Checkpoint aus Lektion 1 (Modell, Optimierer, Epoche),
* fortgesetzt nur mit dem Modell.

Alle Läufe verwenden die Musterlösungen. Die Sphinx-Konfiguration ruft :func:`build` beim Bauen
auf, wenn sich eine der Quellen geändert hat; von Hand: ``python -m course.resume_figure ZIELORDNER``.
"""

import sys
import tempfile
from pathlib import Path

import torch

from course.exact_training import fresh_progress, train_exactly
from solutions import checkpoints, training_state

EPOCHS = 4
INTERRUPT_AFTER_EPOCH = 2
FIGURE = "fortsetzen.png"
NUMBERS = "fortsetzen_zahlen.inc"


def save_lesson_one(filename, model, optimizer, scheduler, progress):
    if progress["batch"] == 0:  # der Checkpoint aus Lektion 1 kennt nur ganze Epochen
        checkpoints.save_checkpoint(model, optimizer, progress["epoch"], filename)


def resume_lesson_one(filename, model, optimizer, scheduler, loader):
    epoch = checkpoints.load_checkpoint(model, optimizer, filename)
    if epoch == 0:
        return None, None
    return {**fresh_progress(), "epoch": epoch, "global_step": epoch * len(loader)}, None


def save_model_only(filename, model, optimizer, scheduler, progress):
    if progress["batch"] == 0:
        torch.save({"epoch": progress["epoch"], "model_state_dict": model.state_dict()}, filename)


def resume_model_only(filename, model, optimizer, scheduler, loader):
    try:
        checkpoint = torch.load(filename, weights_only=True)
    except FileNotFoundError:
        return None, None
    model.load_state_dict(checkpoint["model_state_dict"])
    epoch = checkpoint["epoch"]
    return {**fresh_progress(), "epoch": epoch, "global_step": epoch * len(loader)}, None


STRATEGIES = {
    "mit vollständigem Zustand (Lektion 2)": (training_state.save_training_state, training_state.resume_training_state),
    "mit Checkpoint aus Lektion 1": (save_lesson_one, resume_lesson_one),
    "nur mit dem Modell": (save_model_only, resume_model_only),
}


def largest_difference(first, second):
    return max((a.float() - b.float()).abs().max().item() for a, b in zip(first.values(), second.values()))


def run_experiment(workdir):
    """Trainiert alle Läufe; gibt je Lauf die Verluste und die Gewichte am Ende zurück."""
    model, history = train_exactly(*STRATEGIES["mit vollständigem Zustand (Lektion 2)"], EPOCHS, str(workdir / "durchgehend.pth"))
    runs = {"ohne Unterbrechung": (history.losses, model.state_dict())}
    for index, (label, (save, resume)) in enumerate(STRATEGIES.items()):
        filename = str(workdir / f"lauf{index}.pth")
        _, before = train_exactly(save, resume, EPOCHS, filename, lambda p: p["batch"] == 0 and p["epoch"] == INTERRUPT_AFTER_EPOCH)
        model, after = train_exactly(save, resume, EPOCHS, filename)
        runs[f"fortgesetzt {label}"] = (before.losses + after.losses, model.state_dict())
    return runs


def draw(runs, steps_before_interrupt, target):
    """Oben der Verlust je Schritt, unten sein Abstand zum Lauf ohne Unterbrechung."""
    import logging

    import matplotlib

    matplotlib.use("Agg")
    logging.getLogger("matplotlib").setLevel(logging.WARNING)  # e.g. the font cache built on first use
    import matplotlib.pyplot as plt

    figure, (losses_axes, difference_axes) = plt.subplots(
        2, 1, figsize=(8, 6.5), dpi=120, sharex=True, gridspec_kw={"height_ratios": [3, 2]}
    )
    styles = [dict(color="black", linewidth=2.5), dict(color="tab:green", linestyle="--", linewidth=1.5),
              dict(color="tab:orange", linewidth=1), dict(color="tab:red", linewidth=1)]
    baseline = runs["ohne Unterbrechung"][0]
    for (label, (losses, _)), style in zip(runs.items(), styles):
        steps = range(1, len(losses) + 1)
        losses_axes.plot(steps, losses, label=label, **style)
        difference_axes.plot(steps, [abs(a - b) for a, b in zip(losses, baseline)], **style)
    for axes in (losses_axes, difference_axes):
        axes.axvline(steps_before_interrupt + 0.5, color="gray", linestyle=":")
    losses_axes.plot([], [], color="gray", linestyle=":", label="Unterbrechung")
    losses_axes.set_ylabel("Verlust (Kreuzentropie)")
    losses_axes.set_title("Fortsetzen nach einer Unterbrechung")
    losses_axes.legend()
    difference_axes.set_xlabel("Trainingsschritt")
    difference_axes.set_ylabel("Abstand zum Lauf\nohne Unterbrechung")
    figure.tight_layout()
    figure.savefig(target)
    plt.close(figure)


def numbers_table(runs):
    """Eine reStructuredText-Tabelle: größte Abweichung der Gewichte am Ende je Lauf."""
    reference = runs["ohne Unterbrechung"][1]
    lines = [".. list-table:: Größte Abweichung eines Gewichts am Ende, verglichen mit dem Lauf ohne Unterbrechung",
             "   :header-rows: 1", "", "   * - Lauf", "     - größte Abweichung"]
    for label, (_, weights) in runs.items():
        if label != "ohne Unterbrechung":
            difference = f"{largest_difference(reference, weights):.6g}".replace(".", ",")
            lines += [f"   * - {label}", f"     - {difference}"]
    return "\n".join(lines) + "\n"


def build(target_dir):
    """Erzeugt Abbildung und Zahlen in ``target_dir``."""
    target_dir = Path(target_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as workdir:
        runs = run_experiment(Path(workdir))
    steps_per_epoch = len(runs["ohne Unterbrechung"][0]) // EPOCHS
    draw(runs, INTERRUPT_AFTER_EPOCH * steps_per_epoch, target_dir / FIGURE)
    (target_dir / NUMBERS).write_text(numbers_table(runs), encoding="utf-8")


if __name__ == "__main__":
    build(sys.argv[1] if len(sys.argv) > 1 else "source/_generated")
