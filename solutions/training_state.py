"""Musterlösung zur Lektion „Training exakt fortsetzen“: der vollständige Trainingszustand."""

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
    _, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    version, python_state, python_gauss = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        # NumPy liefert ein Array: als Liste von int speichern, nicht als numpy.ndarray.
        "numpy": {
            "keys": keys.tolist(),
            "position": int(position),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached_gaussian),
        },
        "python": {"version": version, "state": list(python_state), "gauss": python_gauss},
    }


def restore_rng_states(states):
    """Setzt die Zufallszahlengeneratoren auf die Zustände aus :func:`capture_rng_states`.

    Args:
        states: Das Dictionary, das :func:`capture_rng_states` zurückgegeben hat.
    """
    numpy_state = states["numpy"]
    np.random.set_state(
        (
            "MT19937",
            np.array(numpy_state["keys"], dtype=np.uint32),
            numpy_state["position"],
            numpy_state["has_gauss"],
            numpy_state["cached_gaussian"],
        )
    )
    python_state = states["python"]
    random.setstate((python_state["version"], tuple(python_state["state"]), python_state["gauss"]))
    torch.set_rng_state(states["torch"])


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
    checkpoint = {
        "model_state_dict": model.state_dict(),
        "optimizer_state_dict": optimizer.state_dict(),
        "scheduler_state_dict": scheduler.state_dict(),
        "progress": progress,
        "rng": capture_rng_states(),
    }
    torch.save(checkpoint, filename)


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
    try:
        checkpoint = torch.load(filename, weights_only=True)
        progress = checkpoint["progress"]
        rng_states = checkpoint["rng"]
        model.load_state_dict(checkpoint["model_state_dict"])
        optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
        scheduler.load_state_dict(checkpoint["scheduler_state_dict"])
    except FileNotFoundError:
        print(f"Kein Checkpoint unter {filename!r} gefunden: Das Training beginnt von vorn.")
        return None, None
    except Exception as error:
        print(f"Der Checkpoint {filename!r} ist unbrauchbar ({type(error).__name__}: {error}). "
              "Das Training beginnt von vorn.")
        return None, None
    if progress["batch"] == 0:
        # Am Anfang einer Epoche: Generatoren zurücksetzen, dann den Iterator erzeugen – genau
        # wie im Lauf ohne Unterbrechung.
        restore_rng_states(rng_states)
        return progress, iter(loader)
    # Mitten in der Epoche: iter(loader) und der erste Batch ziehen Zufallszahlen aus dem
    # torch-Generator und legen so die Mischreihenfolge fest. Also erst den Zustand von damals
    # setzen, den Iterator erzeugen und die schon trainierten Batches überspringen ...
    torch.set_rng_state(progress["loader_rng_state"])
    batches = iter(loader)
    for _ in range(progress["batch"]):
        next(batches)
    # ... und danach alle Generatoren auf den Stand beim Speichern (Dropout, Augmentierung).
    restore_rng_states(rng_states)
    return progress, batches
