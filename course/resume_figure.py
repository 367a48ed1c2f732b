"""Die Abbildung der Lektion „Training exakt fortsetzen“: Verlust je Schritt für vier Läufe.

* ohne Unterbrechung,
* unterbrochen und fortgesetzt mit dem vollständigen Trainingszustand (Lektion 2),
* fortgesetzt mit dem Checkpoint aus Lektion 1 (Modell, Optimierer, Epoche),
* fortgesetzt nur mit dem Modell.

Alle Läufe verwenden die Musterlösungen. Die Abbildung zeigt einen Startwert; die Tabelle fasst
mehrere Startwerte zusammen, denn wie weit ein abgewichener Lauf am Ende danebenliegt, hängt vom
Zufall ab. Die Sphinx-Konfiguration ruft :func:`build` beim Bauen auf, wenn sich eine der Quellen
geändert hat; von Hand: ``python -m course.resume_figure ZIELORDNER``.
"""

import contextlib
import functools
import io
import statistics
import sys
import tempfile
from pathlib import Path

import torch

from course.exact_training import SEED, build_training, fresh_progress, train_exactly
from solutions import checkpoints, training_state

EPOCHS = 4
INTERRUPT_AFTER_EPOCH = 2
SEEDS = (SEED, SEED + 1, SEED + 2)  # der erste ist der Lauf der Abbildung
COMPLETE, LESSON_ONE, MODEL_ONLY = (f"fortgesetzt {label}" for label in (
    "mit vollständigem Zustand (Lektion 2)", "mit Checkpoint aus Lektion 1", "nur mit dem Modell"))
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
    """Die größte Abweichung eines einzelnen Werts zweier ``state_dict``\\ s."""
    return max((a.float() - b.float()).abs().max().item() for a, b in zip(first.values(), second.values()))


def distance(first, second):
    """Der euklidische Abstand zweier ``state_dict``\\ s über alle ihre Werte."""
    return sum(((a.float() - b.float()) ** 2).sum().item() for a, b in zip(first.values(), second.values())) ** 0.5


def run_experiment(workdir, seed=SEED):
    """Trainiert alle Läufe; gibt je Lauf die Verluste und die Gewichte am Ende zurück."""
    build = functools.partial(build_training, seed=seed)
    with contextlib.redirect_stdout(io.StringIO()):  # die Meldungen „Kein Checkpoint …“ der Läufe
        model, history = train_exactly(*STRATEGIES["mit vollständigem Zustand (Lektion 2)"], EPOCHS,
                                       str(workdir / "durchgehend.pth"), build=build)
        runs = {"ohne Unterbrechung": (history.losses, model.state_dict())}
        for index, (label, (save, resume)) in enumerate(STRATEGIES.items()):
            filename = str(workdir / f"lauf{index}.pth")
            _, before = train_exactly(save, resume, EPOCHS, filename,
                                      lambda p: p["batch"] == 0 and p["epoch"] == INTERRUPT_AFTER_EPOCH, build=build)
            model, after = train_exactly(save, resume, EPOCHS, filename, build=build)
            runs[f"fortgesetzt {label}"] = (before.losses + after.losses, model.state_dict())
    return runs


def measure(runs):
    """Je fortgesetztem Lauf: Abstand aller Werte und größte Einzelabweichung zum Lauf ohne Unterbrechung."""
    reference = runs["ohne Unterbrechung"][1]
    return {label: (distance(reference, weights), largest_difference(reference, weights))
            for label, (_, weights) in runs.items() if label != "ohne Unterbrechung"}


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


def german(value, digits):
    return f"{value:.{digits}f}".replace(".", ",")


def summary(values):
    """Mittelwert und Spannweite, z. B. ``1,61 (1,47 bis 1,71)``; nur Nullen als ``0``."""
    if max(values) == 0:
        return "0"
    return f"{german(statistics.mean(values), 2)} ({german(min(values), 2)} bis {german(max(values), 2)})"


def numbers_table(measurements):
    """Tabelle und Schlussfolgerung aus ``measurements`` (je Startwert ein Ergebnis von :func:`measure`).

    Die Sätze unter der Tabelle entstehen aus denselben Zahlen: Sie behaupten eine Reihenfolge
    nur, wenn sie bei jedem Startwert gilt.
    """
    labels = list(measurements[0])
    count = len(measurements)
    lines = [f".. list-table:: Abweichung der Gewichte am Ende vom Lauf ohne Unterbrechung, "
             f"Mittelwert über {count} Startwerte (kleinster bis größter Wert)",
             "   :header-rows: 1", "", "   * - Lauf", "     - Abstand aller Werte",
             "     - größte Abweichung eines Werts"]
    for label in labels:
        distances = [run[label][0] for run in measurements]
        largest = [run[label][1] for run in measurements]
        lines += [f"   * - {label}", f"     - {summary(distances)}", f"     - {summary(largest)}"]

    def always_further(column):
        return all(run[MODEL_ONLY][column] > run[LESSON_ONE][column] for run in measurements)

    exact = all(run[COMPLETE] == (0.0, 0.0) for run in measurements)
    lines += ["", "Der *Abstand aller Werte* ist die Wurzel aus der Summe der Quadrate aller Abweichungen über "
              "alle Parameter und Buffer des Modells, die *größte Abweichung* die eines einzelnen Werts."]
    if exact:
        lines += ["Mit vollständigem Zustand sind die Gewichte bei jedem Startwert bitgenau gleich."]
    else:
        lines += ["Mit vollständigem Zustand weichen die Gewichte bei mindestens einem Startwert ab."]
    if always_further(0):
        lines += [f"Im Abstand aller Werte liegt der Lauf nur mit dem Modell bei allen {count} Startwerten "
                  "weiter vom Lauf ohne Unterbrechung entfernt als der mit dem Checkpoint aus Lektion 1."]
    else:
        lines += [f"Im Abstand aller Werte liegt der Lauf nur mit dem Modell nicht bei allen {count} Startwerten "
                  "weiter vom Lauf ohne Unterbrechung entfernt als der mit dem Checkpoint aus Lektion 1."]
    if always_further(1) or all(run[MODEL_ONLY][1] < run[LESSON_ONE][1] for run in measurements):
        lines += ["Die größte Abweichung eines einzelnen Werts ordnet die beiden Läufe bei diesen Startwerten "
                  "zwar einheitlich, hängt aber an einem einzigen Wert und ist deshalb ein verrauschtes Maß."]
    else:
        lines += ["Die größte Abweichung eines einzelnen Werts dagegen ordnet die beiden Läufe je nach Startwert "
                  "verschieden: Sie hängt an einem einzigen Wert und ist deshalb ein verrauschtes Maß."]
    return "\n".join(lines) + "\n"


def build(target_dir):
    """Erzeugt Abbildung (erster Startwert) und Tabelle (alle Startwerte) in ``target_dir``."""
    target_dir = Path(target_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    measurements = []
    for seed in SEEDS:
        with tempfile.TemporaryDirectory() as workdir:
            runs = run_experiment(Path(workdir), seed)
        if seed == SEEDS[0]:
            steps_per_epoch = len(runs["ohne Unterbrechung"][0]) // EPOCHS
            draw(runs, INTERRUPT_AFTER_EPOCH * steps_per_epoch, target_dir / FIGURE)
        measurements.append(measure(runs))
    (target_dir / NUMBERS).write_text(numbers_table(measurements), encoding="utf-8")


if __name__ == "__main__":
    build(sys.argv[1] if len(sys.argv) > 1 else "source/_generated")
