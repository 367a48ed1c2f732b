"""Die Abbildung der Lektion „Checkpoints verwalten“: welche Dateien nach jedem Speichern übrig sind.

Der ``CheckpointManager`` der Musterlösung speichert 20-mal mit ``keep=3`` in einen temporären
Ordner, mit einer festen Folge von Werten ``val_loss``. Nach jedem Speichern hält das Skript fest,
welche Dateien im Ordner liegen und welche der beste Checkpoint ist; daraus entstehen die
Abbildung und die Sätze darunter (``rotation_zahlen.inc``). Die Sphinx-Konfiguration ruft
:func:`build` beim Bauen auf, wenn sich eine der Quellen geändert hat; von Hand:
``python -m course.rotation_figure ZIELORDNER``.
"""

import contextlib
import io
import math
import sys
import tempfile
from pathlib import Path

from solutions.verwaltung import CheckpointManager

KEEP = 3
STEP = 100  # gespeichert wird alle 100 Trainingsschritte
VAL_LOSSES = [2.31, 1.74, 1.42, 1.18, 1.21, 0.97, 1.03, 0.91, 0.96, 0.94,
              0.91, 0.99, float("nan"), 1.02, 0.95, 1.08, 0.98, 1.12, 0.97, 1.01]
FIGURE = "rotation.png"
NUMBERS = "rotation_zahlen.inc"


def run(folder):
    """Speichert einmal je Wert; gibt je Speichern (Schritt, Wert, vorhandene Schritte, bester Schritt) zurück."""
    manager = CheckpointManager(folder, keep=KEEP, monitor="val_loss", mode="min")
    timeline = []
    for number, value in enumerate(VAL_LOSSES, start=1):
        step = number * STEP
        manager.save(step, {"gewicht": [float(number)]}, {"val_loss": value})
        present = sorted(int(path.stem.split("-")[1]) for path in Path(folder).glob("schritt-*.pt"))
        best = manager.best()
        timeline.append((step, value, present, int(best[0].stem.split("-")[1]) if best else None))
    return timeline


def german(value, digits=2):
    return f"{value:.{digits}f}".replace(".", ",")


def draw(timeline, target):
    import logging

    import matplotlib

    matplotlib.use("Agg")
    logging.getLogger("matplotlib").setLevel(logging.WARNING)
    import matplotlib.pyplot as plt

    saves = range(1, len(timeline) + 1)
    figure, (loss_axes, files_axes) = plt.subplots(
        2, 1, figsize=(8, 7), dpi=120, sharex=True, gridspec_kw={"height_ratios": [1, 3]})
    figure.patch.set_facecolor("white")
    loss_axes.plot(saves, [value for _, value, _, _ in timeline], color="black", marker="o", markersize=4)
    for save, (_, value, _, _) in zip(saves, timeline):
        if math.isnan(value):
            loss_axes.annotate("NaN", (save, 1.0), ha="center", color="tab:red", fontsize=9)
    loss_axes.set_ylabel("val_loss")
    loss_axes.set_title(f"20 Speichervorgänge mit keep={KEEP}: welche Dateien übrig sind")
    for save, (step, _, present, best) in zip(saves, timeline):
        kept = [other for other in present if other != best]
        files_axes.scatter([save] * len(kept), kept, marker="s", s=60, color="tab:blue",
                           label="vorhandene Datei" if save == 1 else None)
        if best is not None:
            files_axes.scatter([save], [best], marker="*", s=180, color="tab:orange", edgecolors="black",
                               linewidths=0.6, zorder=3, label="bester Checkpoint" if save == 1 else None)
        files_axes.scatter([save], [step], marker="o", s=260, facecolors="none", edgecolors="black",
                           linewidths=1.2, zorder=4, label="gerade gespeichert" if save == 1 else None)
    files_axes.set_xlabel("Speichervorgang")
    files_axes.set_ylabel("Schritt der Datei")
    files_axes.set_xticks(list(saves))
    files_axes.set_yticks([step for step, _, _, _ in timeline][1::2])
    files_axes.grid(True, color="0.9")
    files_axes.set_axisbelow(True)
    files_axes.legend(loc="upper left")
    figure.tight_layout()
    figure.savefig(target, facecolor="white")
    plt.close(figure)


def sentences(timeline):
    """Was die Abbildung zeigt, als Sätze aus denselben Daten."""
    final_step, _, final_files, final_best = timeline[-1]
    best_value = dict((step, value) for step, value, _, _ in timeline)[final_best]
    counts = sorted({len(present) for _, _, present, _ in timeline[KEEP:]})
    nan_steps = [step for step, value, _, _ in timeline if math.isnan(value)]
    became_best = [step for step, _, _, best in timeline if best == step]
    ties = [step for step, value, _, _ in timeline if value == best_value and step != final_best]
    lines = [
        f"Nach dem letzten Speichern liegen {len(final_files)} Dateien im Ordner: "
        + ", ".join(f"``schritt-{step:06d}.pt``" for step in final_files) + ".",
        f"Ab dem {KEEP + 1}. Speichern liegen nach jedem Speichern "
        + " oder ".join(str(count) for count in counts) + " Dateien im Ordner: "
        f"die {KEEP} neuesten und, wenn er nicht darunter ist, der beste.",
        f"Der beste Checkpoint ist am Ende Schritt {final_best} mit ``val_loss`` {german(best_value)}. "
        "Nacheinander wurde der Checkpoint bei Schritt " + ", ".join(map(str, became_best)) + " zum besten.",
    ]
    if ties:
        lines.append(f"Schritt {', '.join(map(str, ties))} erreicht denselben Wert {german(best_value)}; "
                     f"bei Gleichstand bleibt der frühere, Schritt {final_best}, der beste.")
    if nan_steps:
        lines.append(f"Bei Schritt {', '.join(map(str, nan_steps))} ist ``val_loss`` ``NaN`` (in der oberen Kurve "
                     "eine Lücke); dieser Checkpoint wird nie der beste und verschwindet, sobald er nicht mehr "
                     f"zu den {KEEP} neuesten gehört.")
    return "\n".join(lines) + "\n"


def build(target_dir):
    """Erzeugt Abbildung und Sätze in ``target_dir``."""
    target_dir = Path(target_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder, contextlib.redirect_stdout(io.StringIO()):
        timeline = run(folder)
    draw(timeline, target_dir / FIGURE)
    (target_dir / NUMBERS).write_text(sentences(timeline), encoding="utf-8")


if __name__ == "__main__":
    build(sys.argv[1] if len(sys.argv) > 1 else "source/_generated")
