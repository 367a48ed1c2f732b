"""Aufgaben zur Lektion „Training exakt fortsetzen“: der vollständige Trainingszustand.

Ersetzen Sie in jeder Funktion die Zeile ``raise NotImplementedError`` durch Ihre Lösung und
prüfen Sie sie mit ``make grade``.
"""

import random

import numpy as np
import torch


def capture_rng_states():
    """Gibt die Zustände der Zufallszahlengeneratoren von torch, NumPy und Python zurück.

    Alle Werte sind Tensoren oder einfache Python-Werte, damit
    ``torch.load(..., weights_only=True)`` sie ohne Allowlist lädt.

    Returns:
        dict: Die Schlüssel ``'torch'``, ``'numpy'`` und ``'python'``.
    """
    # TODO: Lesen Sie torch.get_rng_state(), np.random.get_state() und random.getstate().
    # TODO: Wandeln Sie NumPy-Arrays in einfache Werte um (z. B. mit .tolist()),
    #       damit weights_only=True sie laden kann.
    raise NotImplementedError("Aufgabe noch nicht implementiert")


def restore_rng_states(states):
    """Setzt die Zufallszahlengeneratoren auf die Zustände aus :func:`capture_rng_states`.

    Args:
        states: Das Dictionary, das :func:`capture_rng_states` zurückgegeben hat.
    """
    # TODO: Setzen Sie die drei Generatoren mit np.random.set_state(...),
    #       random.setstate(...) und torch.set_rng_state(...) zurück.
    raise NotImplementedError("Aufgabe noch nicht implementiert")


def save_training_state(filename, model, optimizer, scheduler, progress):
    """Speichert den vollständigen Trainingszustand in ``filename``.

    Der Checkpoint ist ein Dictionary mit den Schlüsseln

    * ``'model_state_dict'``, ``'optimizer_state_dict'`` und
      ``'scheduler_state_dict'``: die ``state_dict``\\ s der drei Objekte,
    * ``'progress'``: das Dictionary ``progress`` der Trainingsschleife,
      unverändert,
    * ``'rng'``: die aktuellen Zustände der Zufallszahlengeneratoren von
      torch, NumPy und Python (siehe :func:`capture_rng_states`).

    Die Datei muss sich mit ``torch.load(filename, weights_only=True)``
    laden lassen, ohne dass dafür Typen freigegeben werden müssen.

    Args:
        filename: Pfad der Checkpoint-Datei.
        model: Das Modell.
        optimizer: Der Optimierer.
        scheduler: Der Lernraten-Scheduler.
        progress: Der Fortschritt der Trainingsschleife mit den Schlüsseln
            ``'epoch'`` (abgeschlossene Epochen), ``'batch'`` (in der
            laufenden Epoche schon trainierte Batches), ``'global_step'``,
            ``'best_loss'`` und ``'loader_rng_state'`` (der Zustand des
            torch-Generators unmittelbar vor ``iter(loader)`` der laufenden
            Epoche).
    """
    # TODO: Speichern Sie die drei state_dicts, progress und capture_rng_states()
    #       mit torch.save in einem Dictionary.
    raise NotImplementedError("Aufgabe noch nicht implementiert")


def resume_training_state(filename, model, optimizer, scheduler, loader):
    """Stellt den Trainingszustand aus ``filename`` wieder her, bitgenau.

    Lädt die Datei mit ``weights_only=True`` und die Zustände von Modell,
    Optimierer und Scheduler. Dann stellt die Funktion die Position in den
    Daten wieder her:

    * Am Anfang einer Epoche (``progress['batch'] == 0``) setzt sie alle
      Zufallszahlengeneratoren auf den Stand beim Speichern und erzeugt dann
      ``iter(loader)``.
    * Mitten in einer Epoche setzt sie den torch-Generator auf
      ``progress['loader_rng_state']``, erzeugt erst danach ``iter(loader)``
      – so entsteht dieselbe Mischreihenfolge wie vor der Unterbrechung –,
      überspringt die ``progress['batch']`` schon trainierten Batches und
      setzt zuletzt alle Generatoren auf den Stand beim Speichern.

    Fehlt die Datei oder ist sie unbrauchbar, gibt die Funktion eine Meldung
    aus und ``(None, None)`` zurück: Das Training beginnt von vorn.
    ``KeyboardInterrupt`` und ``SystemExit`` werden nicht abgefangen.

    Args:
        filename: Pfad der Checkpoint-Datei.
        model: Das Modell, in das die Gewichte geladen werden.
        optimizer: Der Optimierer, schon für die Parameter von ``model`` erzeugt.
        scheduler: Der Scheduler, schon für ``optimizer`` erzeugt.
        loader: Der ``DataLoader`` des Trainings (mit ``shuffle=True``).

    Returns:
        tuple: ``(progress, batches)``: das gespeicherte Dictionary
        ``progress`` und ein Iterator über die restlichen Batches der
        laufenden Epoche; ``(None, None)``, wenn es keinen brauchbaren
        Checkpoint gibt.
    """
    # TODO: Laden Sie die Datei mit weights_only=True und die drei state_dicts.
    # TODO: Stellen Sie die Position in den Daten in der richtigen Reihenfolge wieder her
    #       (siehe Abschnitt „Die richtige Reihenfolge beim Fortsetzen“).
    # TODO: Fehlt die Datei oder ist sie unbrauchbar: Meldung ausgeben, (None, None) zurückgeben.
    raise NotImplementedError("Aufgabe noch nicht implementiert")
