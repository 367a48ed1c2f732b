"""Musterlösung zur Lektion „Checkpoints“: Trainingsstand speichern und laden."""

import copy

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
    checkpoint = {
        "epoch": epoch,
        "model_state_dict": model.state_dict(),
        "optimizer_state_dict": optimizer.state_dict(),
    }
    torch.save(checkpoint, filename)


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
    try:
        checkpoint = torch.load(filename, weights_only=True)
        epoch = checkpoint["epoch"]
        model_state = checkpoint["model_state_dict"]
        optimizer_state = checkpoint["optimizer_state_dict"]
        # Probelauf an einer Kopie: load_state_dict ist nicht atomar und hätte bei
        # einer anderen Architektur schon einen Teil der Gewichte überschrieben.
        copy.deepcopy(model).load_state_dict(model_state)
        optimizer.load_state_dict(optimizer_state)
        model.load_state_dict(model_state)
    except FileNotFoundError:
        print(f"Kein Checkpoint unter {filename!r} gefunden: Das Training beginnt bei Epoche 0.")
        return 0
    except Exception as error:
        print(
            f"Der Checkpoint {filename!r} ist unbrauchbar ({type(error).__name__}: {error}). "
            "Das Training beginnt bei Epoche 0."
        )
        return 0
    return epoch
