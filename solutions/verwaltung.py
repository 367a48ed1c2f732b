"""Musterlösung zur Lektion „Checkpoints verwalten“: die neuesten und den besten behalten, vom neuesten gültigen fortsetzen."""

import math
import os
import re
import tempfile
from pathlib import Path

import torch

_NAME = re.compile(r"schritt-(\d+)\.pt")
_KEYS = ("step", "metrics", "state")


def _atomic_save(obj, path):
    """Speichert ``obj`` atomar unter ``path`` (wie ``atomic_save`` aus Aufgabe 5).

    Die temporäre Datei liegt im selben Ordner, ihr Name beginnt mit einem
    Punkt und endet auf ``.tmp``. Bei einem Fehler wird sie gelöscht und die
    Ausnahme weitergegeben.
    """
    path = os.path.abspath(os.fspath(path))
    folder, name = os.path.split(path)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(descriptor, "wb") as file:
            torch.save(obj, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.remove(temporary)
        except FileNotFoundError:
            pass
        raise
    folder_descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(folder_descriptor)
    finally:
        os.close(folder_descriptor)


class CheckpointManager:
    """Verwaltet die Checkpoints eines Trainings in einem Ordner.

    Jeder Checkpoint liegt in ``folder / f"schritt-{step:06d}.pt"``: Die
    Schrittnummer ist mit Nullen auf sechs Stellen aufgefüllt, damit die
    Namen auch alphabetisch richtig sortiert sind. Die Datei enthält das
    Dictionary ``{"step": step, "metrics": metrics, "state": state}`` und
    lässt sich mit ``torch.load(..., weights_only=True)`` laden.

    Behalten werden die ``keep`` neuesten Checkpoints (nach Schrittnummer)
    und zusätzlich der beste: der mit dem kleinsten (``mode="min"``) oder
    größten (``mode="max"``) Wert ``metrics[monitor]``. Bei Gleichstand
    bleibt der frühere der beste; ``NaN`` wird nie der beste.

    Ein neuer ``CheckpointManager`` auf einem Ordner mit Checkpoints (etwa
    nach einem Neustart des Prozesses) kennt diese und den besten darunter:
    Er liest jede Datei ``schritt-<Ziffern>.pt`` im Ordner. Andere Dateien
    und temporäre Dateien beachtet er nicht; eine Datei, die sich nicht
    laden lässt, wird nie der beste Checkpoint.

    Args:
        folder: Der Ordner der Checkpoints (``str`` oder ``pathlib.Path``);
            er wird angelegt, falls er fehlt.
        keep: Wie viele der neuesten Checkpoints erhalten bleiben
            (mindestens 1, sonst ein ``ValueError``).
        monitor: Der Schlüssel in ``metrics``, nach dem der beste
            Checkpoint bestimmt wird.
        mode: ``"min"`` (kleiner ist besser, etwa ein Verlust) oder
            ``"max"`` (größer ist besser, etwa eine Genauigkeit); jeder
            andere Wert löst einen ``ValueError`` aus.
    """

    def __init__(self, folder, keep=3, monitor="val_loss", mode="min"):
        if mode not in ("min", "max"):
            raise ValueError(f"mode muss 'min' oder 'max' sein, nicht {mode!r}.")
        if keep < 1:
            raise ValueError(f"keep muss mindestens 1 sein, nicht {keep!r}.")
        self.folder = Path(folder)
        self.keep = keep
        self.monitor = monitor
        self.mode = mode
        self.folder.mkdir(parents=True, exist_ok=True)
        # Alle bekannten Checkpoints: Pfad -> (Schritt, überwachter Wert oder None).
        self._checkpoints = {}
        for path, step in self._scan():
            self._checkpoints[path] = (step, self._read_value(path))

    def _scan(self):
        """``(Pfad, Schritt)`` jeder Datei ``schritt-<Ziffern>.pt`` im Ordner."""
        for path in self.folder.iterdir():
            match = _NAME.fullmatch(path.name)
            if match and path.is_file():
                yield path, int(match.group(1))

    def _read_value(self, path):
        """Der überwachte Wert eines vorhandenen Checkpoints oder ``None``, wenn er sich nicht lesen lässt."""
        try:
            checkpoint = torch.load(path, weights_only=True)
            return float(checkpoint["metrics"][self.monitor])
        except Exception:
            return None

    def _better(self, value, than):
        return value < than if self.mode == "min" else value > than

    def _best_entry(self):
        """``(Pfad, Wert)`` des besten Checkpoints: bei Gleichstand der frühere, nie ``NaN``."""
        best = None
        for path, (step, value) in sorted(self._checkpoints.items(), key=lambda item: item[1][0]):
            if value is None or math.isnan(value):
                continue
            if best is None or self._better(value, best[1]):
                best = (path, value)
        return best

    def save(self, step, state, metrics):
        """Speichert einen Checkpoint atomar und räumt danach alte auf.

        Zuerst schreibt die Methode ``{"step": step, "metrics": metrics,
        "state": state}`` atomar nach ``folder / f"schritt-{step:06d}.pt"``:
        in eine temporäre Datei im selben Ordner (ihr Name beginnt mit einem
        Punkt und endet auf ``.tmp``), mit ``flush`` und ``os.fsync``, dann
        ``os.replace`` und ein ``os.fsync`` des Ordners. Scheitert dabei
        etwas, wird die temporäre Datei gelöscht, die Ausnahme weitergegeben,
        und der Manager bleibt, wie er vor dem Aufruf war.

        Erst wenn die neue Datei sicher geschrieben ist, löscht die Methode
        alle Checkpoints außer den ``keep`` neuesten (nach Schrittnummer) und
        dem besten.

        Args:
            step: Die Schrittnummer (``int``, nicht negativ).
            state: Was gespeichert wird, etwa die ``state_dict``\\ s von
                Modell und Optimierer; es muss sich mit
                ``weights_only=True`` laden lassen.
            metrics: Ein Dictionary mit Messwerten; ``metrics[monitor]``
                muss vorhanden sein (sonst ein ``KeyError``, bevor etwas
                geschrieben wird) und wird mit ``float()`` umgewandelt.

        Returns:
            Den Pfad der neuen Datei als ``pathlib.Path``.
        """
        if self.monitor not in metrics:
            raise KeyError(f"metrics enthält den überwachten Wert {self.monitor!r} nicht "
                           f"(vorhanden: {sorted(map(str, metrics))}).")
        value = float(metrics[self.monitor])
        path = self.folder / f"schritt-{step:06d}.pt"
        _atomic_save({"step": step, "metrics": metrics, "state": state}, path)
        self._checkpoints[path] = (step, value)
        self._rotate()
        return path

    def _rotate(self):
        """Löscht alle Checkpoints außer den ``keep`` neuesten und dem besten."""
        newest = sorted(self._checkpoints, key=lambda path: self._checkpoints[path][0], reverse=True)
        kept = set(newest[:self.keep])
        best = self._best_entry()
        if best is not None:
            kept.add(best[0])
        for path in newest[self.keep:]:
            if path not in kept:
                path.unlink(missing_ok=True)
                del self._checkpoints[path]

    def latest_valid(self):
        """Gibt den Pfad des neuesten Checkpoints zurück, der sich laden lässt.

        Geht die Dateien ``schritt-<Ziffern>.pt`` im Ordner vom höchsten
        Schritt abwärts durch. Gültig ist eine Datei, die sich mit
        ``torch.load(path, weights_only=True)`` laden lässt und ein
        Dictionary mit den Schlüsseln ``"step"``, ``"metrics"`` und
        ``"state"`` enthält. Für jede neuere Datei, die übersprungen wird,
        gibt die Methode eine deutsche Zeile aus, die die Datei und den Grund
        nennt.

        Returns:
            Den Pfad des neuesten gültigen Checkpoints als ``pathlib.Path``,
            oder ``None``, wenn es keinen gibt.
        """
        for path, _ in sorted(self._scan(), key=lambda item: item[1], reverse=True):
            try:
                checkpoint = torch.load(path, weights_only=True)
            except Exception as error:
                reason = " ".join(str(error).split())
                reason = reason.split(". ")[0].rstrip(".")  # der erste Satz reicht
                reason = reason if len(reason) <= 200 else reason[:199] + "…"
                print(f"Überspringe {path.name}: nicht ladbar ({type(error).__name__}: {reason})")
                continue
            if not isinstance(checkpoint, dict) or not all(key in checkpoint for key in _KEYS):
                print(f"Überspringe {path.name}: kein Dictionary mit den Schlüsseln 'step', 'metrics' und 'state'")
                continue
            return path
        return None

    def best(self):
        """Gibt den besten Checkpoint und seinen überwachten Wert zurück.

        Returns:
            tuple: ``(pfad, wert)`` mit ``pfad`` als ``pathlib.Path`` und
            ``wert`` als ``float``, oder ``None``, wenn es keinen besten
            gibt (kein Checkpoint oder nur solche mit ``NaN``).
        """
        return self._best_entry()
