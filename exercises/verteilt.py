"""Aufgabe zur Lektion „Große Modelle und verteiltes Training“: den ganzen Trainingszustand mit DCP speichern und fortsetzen.

Ersetzen Sie in jeder Funktion und Methode die Zeile ``raise NotImplementedError`` durch Ihre
Lösung und prüfen Sie sie mit ``make grade``. Der Bewerter startet Ihre Funktionen selbst mit
``torchrun`` in zwei Prozessen. ``_rank`` und ``_checkpoint_path`` stehen schon bereit; weitere
private Hilfsfunktionen dürfen Sie ergänzen.
"""

import re
from pathlib import Path

import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict
from torch.distributed.checkpoint.stateful import Stateful

_NAME = re.compile(r"schritt-(\d+)")


def _rank():
    """Der eigene Rang; 0 in einem Prozess ohne Prozessgruppe."""
    return dist.get_rank() if dist.is_initialized() else 0


class TrainingState(Stateful):
    """Der ganze Trainingszustand eines Rangs, so wie ``torch.distributed.checkpoint`` ihn speichert.

    Das Objekt hält die Attribute ``model`` (auch mit ``fully_shard``
    verteilt), ``optimizer``, ``scheduler`` und ``step``, die Zahl der
    abgeschlossenen Trainingsschritte (anfangs 0); die Namen sind genau diese.
    ``dcp.save({"app": state}, ...)`` ruft ``state_dict()`` auf,
    ``dcp.load({"app": state}, ...)`` erst ``state_dict()`` (als Vorlage, die
    es an Ort und Stelle füllt) und dann ``load_state_dict()``.
    """

    def __init__(self, model, optimizer, scheduler):
        # TODO: Ihre Lösung
        raise NotImplementedError("Aufgabe noch nicht implementiert")

    def state_dict(self):
        """Gibt den Zustand dieses Rangs als Dictionary zurück.

        Schlüssel: ``"model"`` und ``"optimizer"`` (beide aus
        ``get_state_dict``, die Parameter also mit vollen Namen statt
        Nummern), ``"scheduler"``, ``"step"`` und ``"rng"``: ein Dictionary
        ``{f"rang-{rang}": torch.get_rng_state()}`` mit dem Zustand des
        Zufallsgenerators dieses Rangs unter einem eigenen Schlüssel je Rang
        (ohne Prozessgruppe ist der Rang 0). Gesichert wird nur der Generator
        von torch, denn nur ihn nutzt das Training dieser Aufgabe (Dropout);
        zöge es auch mit NumPy oder ``random``, kämen deren Zustände als
        Tensoren oder einfache Werte ebenso unter den Schlüssel des Rangs.
        """
        # TODO: Ihre Lösung
        raise NotImplementedError("Aufgabe noch nicht implementiert")

    def load_state_dict(self, state_dict):
        """Stellt den Zustand aus ``state_dict`` wieder her (das Gegenstück zu ``state_dict()``).

        Modell und Optimierer über ``set_state_dict``, dann Scheduler,
        ``step`` und den Zufallsgenerator dieses Rangs aus seinem eigenen
        Schlüssel.
        """
        # TODO: Ihre Lösung
        raise NotImplementedError("Aufgabe noch nicht implementiert")


def _checkpoint_path(folder, step):
    """Der Ordner des Checkpoints nach ``step`` Schritten: ``folder / f"schritt-{step:06d}"``."""
    return Path(folder) / f"schritt-{step:06d}"


def save_checkpoint(folder, state):
    """Speichert ``state`` mit ``dcp.save`` unter ``_checkpoint_path(folder, state.step)``.

    Alle Ränge rufen die Funktion gemeinsam auf; jeder schreibt seinen Teil
    in eine eigene Datei, Rang 0 zum Schluss die Datei ``.metadata``. Der
    Schlüssel im gespeicherten Dictionary ist ``"app"``.
    """
    # TODO: Ihre Lösung
    raise NotImplementedError("Aufgabe noch nicht implementiert")


def save_checkpoint_async(folder, state, previous, process_group):
    """Wie ``save_checkpoint``, aber im Hintergrund mit ``dcp.async_save``; gibt dessen Future zurück.

    Es darf immer nur eine Speicherung unterwegs sein: Ist ``previous`` (das
    Future des vorigen Aufrufs) nicht ``None``, wartet die Funktion zuerst
    auf dessen Ende. ``process_group`` ist eine eigene Gloo-Gruppe für die
    Kommunikation des Speicherns im Hintergrund, damit sie nicht mit der
    des Trainings kollidiert.
    """
    # TODO: Ihre Lösung
    raise NotImplementedError("Aufgabe noch nicht implementiert")


def load_latest(folder, state):
    """Lädt den neuesten vollständigen Checkpoint aus ``folder`` in ``state`` und gibt seinen Schritt zurück.

    Vollständig ist ein Ordner ``schritt-<Ziffern>``, in dem die Datei
    ``.metadata`` liegt (``dcp.save`` schreibt sie als letzte). Gibt es
    keinen, bleibt ``state`` unverändert und die Funktion gibt 0 zurück –
    auch wenn ``folder`` nicht existiert. Alle Ränge rufen sie gemeinsam auf;
    ohne Prozessgruppe lädt ein einzelner Prozess den ganzen Zustand.
    """
    # TODO: Ihre Lösung
    raise NotImplementedError("Aufgabe noch nicht implementiert")
