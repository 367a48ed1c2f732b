"""Musterlösung zur Lektion „Sicher und robust speichern“: atomar speichern, alles oder nichts laden."""

import copy
import os
import tempfile

import torch

_PREFIXES = ("module.", "_orig_mod.")


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


def _matching_state(saved, expected):
    """``saved`` mit den Schlüsselnamen von ``expected`` oder ``None``, wenn sie nicht passen.

    Ein Präfix ``module.`` (``DataParallel``, DDP) oder ``_orig_mod.``
    (``torch.compile``) wird nur entfernt, wenn jeder Schlüssel damit beginnt
    und die Namen erst ohne ihn passen.
    """
    if saved.keys() == expected.keys():
        return saved
    for prefix in _PREFIXES:
        if saved and all(key.startswith(prefix) for key in saved):
            stripped = {key[len(prefix):]: value for key, value in saved.items()}
            if stripped.keys() == expected.keys():
                return stripped
    return None


def _model_problem(saved, expected):
    """Was an einem Modellzustand nicht passt, als deutscher Satz, oder ``None``."""
    if not isinstance(saved, dict) or not all(isinstance(key, str) for key in saved):
        return "'model_state_dict' ist kein Dictionary mit Schlüsselnamen."
    state = _matching_state(saved, expected)
    if state is None:
        missing = sorted(expected.keys() - saved.keys())
        unexpected = sorted(saved.keys() - expected.keys())
        return f"Die Schlüssel passen nicht zum Modell: es fehlen {missing[:5]}, unerwartet sind {unexpected[:5]}."
    for key, tensor in expected.items():
        value = state[key]
        if not isinstance(value, torch.Tensor):
            return f"Unter {key!r} steht kein Tensor."
        if value.shape != tensor.shape:
            return (f"Falsche Form für {key!r}: im Checkpoint {list(value.shape)}, "
                    f"im Modell {list(tensor.shape)}.")
    return None


def _optimizer_problem(saved, optimizer):
    """Was an einem Optimiererzustand nicht passt, als deutscher Satz, oder ``None``."""
    if not isinstance(saved, dict) or not {"state", "param_groups"} <= saved.keys():
        return "'optimizer_state_dict' hat nicht die Schlüssel 'state' und 'param_groups'."
    groups = optimizer.param_groups
    saved_groups = saved["param_groups"]
    if len(saved_groups) != len(groups):
        return f"Der Optimierer hat {len(groups)} Parametergruppen, der Checkpoint {len(saved_groups)}."
    parameters = {}
    for number, (group, saved_group) in enumerate(zip(groups, saved_groups)):
        if len(group["params"]) != len(saved_group["params"]):
            return (f"Parametergruppe {number} hat {len(group['params'])} Parameter, "
                    f"im Checkpoint {len(saved_group['params'])}.")
        parameters.update(zip(saved_group["params"], group["params"]))
    for index, values in saved["state"].items():
        if index not in parameters:
            return f"Der Optimiererzustand nennt einen unbekannten Parameter {index!r}."
        for name, value in values.items():
            shape = parameters[index].shape
            if isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape != shape:
                return (f"Falsche Form im Optimiererzustand ({name!r} von Parameter {index}): "
                        f"im Checkpoint {list(value.shape)}, im Modell {list(shape)}.")
    return None


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
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:
        print(f"Checkpoint {os.fspath(path)!r} nicht geladen: {type(error).__name__}: {error}")
        return None
    if not isinstance(checkpoint, dict):
        print(f"Checkpoint {os.fspath(path)!r} nicht geladen: Er ist kein Dictionary.")
        return None
    missing = [key for key in ("model_state_dict", "optimizer_state_dict") if key not in checkpoint]
    if missing:
        print(f"Checkpoint {os.fspath(path)!r} nicht geladen: Es fehlt {' und '.join(map(repr, missing))}.")
        return None
    problem = _model_problem(checkpoint["model_state_dict"], model.state_dict())
    problem = problem or _optimizer_problem(checkpoint["optimizer_state_dict"], optimizer)
    if problem:
        print(f"Checkpoint {os.fspath(path)!r} nicht geladen: {problem}")
        return None
    model_state = _matching_state(checkpoint["model_state_dict"], model.state_dict())
    # Geprüft ist alles; falls torch trotzdem ablehnt, stellt die Sicherung den alten Zustand her.
    backup = copy.deepcopy(model.state_dict()), copy.deepcopy(optimizer.state_dict())
    try:
        model.load_state_dict(model_state)
        optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    except Exception as error:
        model.load_state_dict(backup[0])
        optimizer.load_state_dict(backup[1])
        print(f"Checkpoint {os.fspath(path)!r} nicht geladen: {type(error).__name__}: {error}")
        return None
    return {key: value for key, value in checkpoint.items()
            if key not in ("model_state_dict", "optimizer_state_dict")}
