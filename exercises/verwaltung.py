"""Aufgabe zur Lektion „Checkpoints verwalten“: die neuesten und den besten behalten, vom neuesten gültigen fortsetzen.

Ersetzen Sie in jeder Methode die Zeile ``raise NotImplementedError`` durch Ihre Lösung und
prüfen Sie sie mit ``make grade``. Das atomare Speichern aus Aufgabe 5 steht als
``_atomic_save`` schon bereit; weitere private Hilfsmethoden dürfen Sie ergänzen.
"""

import os
import tempfile

import torch


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
        # TODO: mode prüfen (ValueError), Ordner anlegen, vorhandene Dateien schritt-<Ziffern>.pt
        #       einlesen: Schritt aus dem Namen, überwachten Wert aus metrics (weights_only=True).
        raise NotImplementedError("Aufgabe noch nicht implementiert")

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
        # TODO: metrics[monitor] prüfen (KeyError), Datei mit _atomic_save schreiben, erst danach alle
        #       Checkpoints außer den keep neuesten (nach Schritt) und dem besten löschen.
        raise NotImplementedError("Aufgabe noch nicht implementiert")

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
        # TODO: Dateien nach Schritt absteigend mit torch.load(..., weights_only=True) versuchen,
        #       Schlüssel prüfen; jede übersprungene Datei mit Grund melden.
        raise NotImplementedError("Aufgabe noch nicht implementiert")

    def best(self):
        """Gibt den besten Checkpoint und seinen überwachten Wert zurück.

        Returns:
            tuple: ``(pfad, wert)`` mit ``pfad`` als ``pathlib.Path`` und
            ``wert`` als ``float``, oder ``None``, wenn es keinen besten
            gibt (kein Checkpoint oder nur solche mit ``NaN``).
        """
        # TODO: (Pfad, Wert) des besten Checkpoints: min oder max, bei Gleichstand der frühere, nie NaN.
        raise NotImplementedError("Aufgabe noch nicht implementiert")
