"""Aufgaben zur Lektion „Checkpoints“: Trainingsstand speichern und laden.

Ersetzen Sie jeweils die Zeile ``raise NotImplementedError`` durch Ihre Lösung und
prüfen Sie sie mit ``make grade``.
"""

import torch


def save_checkpoint(model, optimizer, epoch, filename="checkpoint.pth"):
    """Speichert den Trainingsstand als Checkpoint-Datei.

    Der Checkpoint ist ein Dictionary mit diesen drei Schlüsseln:

    * ``'epoch'``: die Zahl der abgeschlossenen Epochen (``int``), also
      der Index der Epoche, mit der das Training fortgesetzt wird, gezählt
      ab 0: Nach zwei abgeschlossenen Epochen steht hier ``2``, und die
      Trainingsdemo zeigt die nächste Epoche als „Epoche 3/10“ an, weil sie
      für die Anzeige ab 1 zählt,
    * ``'model_state_dict'``: der ``state_dict`` des Modells
      (Parameter und persistente Buffer),
    * ``'optimizer_state_dict'``: der ``state_dict`` des Optimierers
      (``state`` und ``param_groups``).

    Das Dictionary wird mit ``torch.save`` geschrieben, sodass es sich
    mit ``torch.load(filename, weights_only=True)`` wieder laden lässt.

    Args:
        model: Das Modell (``torch.nn.Module``), dessen Zustand gespeichert wird.
        optimizer: Der Optimierer (``torch.optim.Optimizer``) des Modells.
        epoch: Die Zahl der abgeschlossenen Epochen.
        filename: Pfad der Checkpoint-Datei; eine vorhandene Datei wird
            überschrieben.
    """
    # TODO: Legen Sie ein Dictionary mit den Schlüsseln 'epoch', 'model_state_dict'
    #       und 'optimizer_state_dict' an (Hinweis: model.state_dict(), optimizer.state_dict()).
    # TODO: Schreiben Sie es mit torch.save(...) in die Datei filename.
    raise NotImplementedError("Aufgabe noch nicht implementiert")


def load_checkpoint(model, optimizer, filename="checkpoint.pth"):
    """Lädt einen Checkpoint in Modell und Optimierer und gibt die Epoche zurück.

    Die Datei wird mit ``torch.load(filename, weights_only=True)`` gelesen:
    So entstehen beim Entpacken nur Tensoren und einfache Python-Werte,
    und eine manipulierte Datei kann keinen Code ausführen. Danach werden
    die Zustände unter ``'model_state_dict'`` und ``'optimizer_state_dict'``
    in die übergebenen Objekte geladen.

    Fehlt die Datei oder ist sie unbrauchbar (leer, abgeschnitten, kein
    Checkpoint, ein Schlüssel fehlt, ein Modell anderer Architektur), gibt
    die Funktion eine Meldung aus und ``0`` zurück: Das Training beginnt
    dann von vorn. Abgefangen wird dafür nur ``Exception``, nichts
    Allgemeineres: ``KeyboardInterrupt`` (Strg+C) und ``SystemExit`` während
    des Ladens verlassen die Funktion, damit das Programm wirklich endet.

    Args:
        model: Das Modell, in das die gespeicherten Gewichte geladen werden.
        optimizer: Der Optimierer, in den sein gespeicherter Zustand geladen wird.
        filename: Pfad der Checkpoint-Datei.

    Returns:
        int: Die gespeicherte Epoche, also die Zahl der abgeschlossenen
        Epochen, mit der das Training fortgesetzt wird; ``0``, wenn die
        Datei fehlt oder unbrauchbar ist.
    """
    # TODO: Lesen Sie die Datei mit torch.load(filename, weights_only=True).
    # TODO: Laden Sie die Zustände mit model.load_state_dict(...) und
    #       optimizer.load_state_dict(...) und geben Sie die gespeicherte Epoche zurück.
    # TODO: Fehlt die Datei oder ist sie unbrauchbar, geben Sie eine Meldung aus
    #       und 0 zurück (except Exception; Strg+C muss das Programm beenden).
    raise NotImplementedError("Aufgabe noch nicht implementiert")
