"""Aufgaben zur Lektion „Sicher und robust speichern“: atomar speichern, alles oder nichts laden.

Ersetzen Sie jeweils die Zeile ``raise NotImplementedError`` durch Ihre Lösung und
prüfen Sie sie mit ``make grade``.
"""

import os
import tempfile

import torch


def atomic_save(obj, path):
    """Speichert ``obj`` mit ``torch.save`` so, dass unter ``path`` nie eine halbe Datei liegt.

    ``torch.save`` schreibt zuerst in eine temporäre Datei im selben Ordner
    wie ``path`` (nicht in ``/tmp``: ``os.replace`` kann eine Datei nicht
    auf ein anderes Dateisystem verschieben). Die Daten werden mit
    ``flush`` und ``os.fsync`` auf die Platte gebracht, dann ersetzt
    ``os.replace`` die Zieldatei in einem Schritt, und ein ``os.fsync`` des
    Ordners macht auch das Umbenennen dauerhaft.

    Scheitert etwas vor dem Umbenennen (Platte voll, ein Objekt lässt sich
    nicht speichern, Strg+C), bleibt eine vorhandene Datei unter ``path``
    unverändert, die temporäre Datei wird gelöscht und die Ausnahme
    weitergegeben: Wer ``atomic_save`` aufruft, erfährt, dass nicht
    gespeichert wurde.

    Args:
        obj: Was gespeichert wird, etwa ein Checkpoint-Dictionary.
        path: Pfad der Zieldatei (``str`` oder ``pathlib.Path``); eine
            vorhandene Datei wird ersetzt.
    """
    # TODO: tempfile.mkstemp(dir=<Ordner von path>) öffnen, torch.save in die Datei,
    #       flush und os.fsync, dann os.replace; bei jedem Fehler die temporäre Datei löschen
    #       und die Ausnahme weitergeben.
    raise NotImplementedError("Aufgabe noch nicht implementiert")


def safe_load(model, optimizer, path, map_location="cpu"):
    """Lädt einen Checkpoint ganz oder gar nicht in Modell und Optimierer.

    Der Checkpoint ist ein Dictionary wie in Lektion 1 mit den Schlüsseln
    ``'model_state_dict'`` und ``'optimizer_state_dict'``; alles Übrige (etwa
    ``'epoch'``) ist der Rest des Checkpoints. Gelesen wird mit
    ``torch.load(path, map_location=map_location, weights_only=True)``;
    ``map_location`` holt einen Checkpoint von einer GPU-Maschine auf die CPU.

    Schlüssel mit dem Präfix ``module.`` (``DataParallel``, DDP) oder
    ``_orig_mod.`` (``torch.compile``) werden angenommen, wenn *jeder*
    Schlüssel damit beginnt und die Namen erst ohne das Präfix zum Modell
    passen; ein Modell, dessen Untermodul wirklich ``module`` heißt, bleibt
    unberührt.

    Bevor irgendetwas geladen wird, prüft die Funktion alles: die Schlüssel
    und die Form jedes Tensors gegen ``model.state_dict()``, die
    Parametergruppen und die Formen des Optimiererzustands. Bei jedem
    Problem (Datei fehlt oder ist unbrauchbar, ein unsicherer Typ, ein
    Schlüssel fehlt, eine Form passt nicht) gibt sie eine deutsche Meldung
    aus, die das Problem nennt (den fehlenden Schlüssel, beide Formen, den
    abgelehnten Typ), lässt Modell und Optimierer bitgenau unverändert und
    gibt ``None`` zurück. Die Allowlist von ``weights_only`` bleibt, wie sie
    war. ``KeyboardInterrupt`` und ``SystemExit`` werden nicht abgefangen.

    Args:
        model: Das Modell, in das geladen wird.
        optimizer: Der Optimierer des Modells.
        path: Pfad der Checkpoint-Datei.
        map_location: Wohin die Tensoren beim Laden kommen (wie bei
            ``torch.load``).

    Returns:
        dict: Der Rest des Checkpoints (alle Schlüssel außer den beiden
        Zuständen), oder ``None``, wenn nichts geladen wurde.
    """
    # TODO: torch.load(..., map_location=map_location, weights_only=True) in try/except Exception,
    #       dann Schlüssel (mit oder ohne Präfix) und Formen prüfen, erst danach laden.
    raise NotImplementedError("Aufgabe noch nicht implementiert")
