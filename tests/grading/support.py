"""Helpers of the grading tests on the trusted side: reading probe outcomes, comparisons, sentences.

The tests never import the submission. They start probes in the sandboxed worker
(``grader.client``) and judge what comes back against values computed here, independently.
"""

import copy
import io
import os
import re
from pathlib import Path

import torch

from grader.lane import CPU_LIMIT_VARIABLE
from grader.results import Failure
from grader.scenarios import MARKER
from grader.text import cap, describe_exception, rejected_global

REPO = Path(__file__).resolve().parents[2]
REFERENCE_FOLDER = REPO / "solutions"
TRAINING_CPU_SECONDS = 60.0

# German hints for errors that recur in submissions; matched against the first line of a message.
HINTS = (
    (r"Tried to step \d+ times", "Der Scheduler wurde öfter weitergeschaltet als geplant: Beim Fortsetzen die "
     "schon trainierten Batches überspringen und den Scheduler nach dem Laden nicht zusätzlich aufrufen."),
    (r"size mismatch", "Die Tensorgrößen im Checkpoint passen nicht zum Modell."),
    (r"Missing key|Unexpected key", "Die Schlüsselnamen im Checkpoint passen nicht zum Modell."),
    (r"Unsupported global|Weights only load failed", "torch.load(..., weights_only=True) lehnt einen Typ in der "
     "Datei ab: Speichern Sie nur Tensoren und einfache Python-Werte."),
    (r"doesn't match the size of optimizer's group", "Der Optimiererzustand gehört zu anderen Parametern."),
    (r"Permission denied: '/(tmp|var/tmp)/", "In der Bewertung ist nur der Arbeitsordner beschreibbar, nicht /tmp: "
     "Legen Sie temporäre Dateien mit dem Modul tempfile (ohne festen Pfad) oder neben der Zieldatei an."),
    (r"No such file or directory: ''", "os.makedirs('') scheitert bei einem Dateinamen ohne Ordner: Legen Sie den "
     "Ordner nur an, wenn os.path.dirname(filename) nicht leer ist."),
)


def check(condition, message, cause="anforderung"):
    if not condition:
        raise Failure(message, cause)


def hint(message):
    return next((sentence for pattern, sentence in HINTS if re.search(pattern, message)), "")


def error_text(error):
    """``Typ: erste Zeile (Datei, Zeile N: Code)`` of an exception the probe observed."""
    if not error:
        return ""
    text = describe_exception(error["type"], error["message"]).rstrip(". ")
    return f"{text} ({error['where']})" if error.get("where") else text


def with_hint(sentence, error):
    """A sentence about ``error``, followed by the German hint for it, if there is one."""
    extra = hint(error["message"]) if error else ""
    return f"{sentence} {extra}" if extra else sentence


RAISED_FIELDS = {"type": str, "message": str, "where": str, "interrupt": bool, "memory": bool}
RETURNED_FIELDS = {"type": str, "repr": str}


def well_formed(observation):
    """Whether an observation has the shape the probes write (a forged one may not)."""
    def raised_ok(value):
        return isinstance(value, dict) and all(isinstance(value.get(k), t) for k, t in RAISED_FIELDS.items())

    def returned_ok(value):
        return (isinstance(value, dict) and all(isinstance(value.get(k), t) for k, t in RETURNED_FIELDS.items())
                and (value.get("int") is None or type(value.get("int")) is int)
                and all(returned_ok(item) for item in value.get("items") or []))

    def call_ok(value):
        return isinstance(value, dict) and (value == {} or raised_ok(value.get("raised")) if "returned" not in value
                                            else returned_ok(value["returned"]))

    return (isinstance(observation, dict)
            and all(call_ok(observation[key]) for key in ("call", "capture", "resume") if key in observation)
            and all(raised_ok(value) for key, value in observation.items() if key.endswith("_error"))
            and all(isinstance(observation.get(key, []), list) for key in ("learning_rates", "losses"))
            and all(isinstance(observation.get(key, {}), dict) for key in ("model", "optimizer", "draws")))


def seconds(value):
    return f"{float(value):.1f}".replace(".", ",").replace(",0", "")


def cpu_seconds():
    """The CPU time a probe may use (the grader sets it per submission), in seconds."""
    return float(os.environ.get(CPU_LIMIT_VARIABLE, 10))


def observed(outcome, what):
    """The observation of a probe that ran to its end; otherwise a Failure that says what happened."""
    report, phase = outcome.report, outcome.phase
    during = "beim Import Ihrer Datei" if phase in ("", "import") else what
    if outcome.cpu_exceeded:
        raise Failure(f"Zeitüberschreitung {during}: Der Prüfprozess mit Ihrem Code hat mehr als "
                      f"{seconds(outcome.limit)} s gerechnet (gezählt wird die Rechenzeit, nicht die verstrichene "
                      "Zeit). Enthält Ihr Code eine Endlosschleife?", "zeit")
    if outcome.wall_exceeded:
        raise Failure(f"Abgebrochen {during} nach {seconds(report['wall'])} s Laufzeit, obwohl der Prüfprozess nur "
                      f"{seconds(report['cpu'])} s gerechnet hat: Wartet Ihr Code auf etwas (input(), sleep)? Sonst war "
                      "der Rechner überlastet; dann wiederholen Sie bitte die Bewertung.", "zeit")
    if report.get("fork_failed"):
        raise Failure("Für diesen Test ließ sich kein Prozess mehr starten: Ihr Code hat zu viele Prozesse "
                      "hinterlassen.", "abbruch")
    if report.get("exit") == 3:
        raise Failure(f"Die Prüfung selbst brach {during} ab – durch einen Fehler der Bewertung oder einen "
                      "Eingriff Ihres Codes (etwa in torch).", "abbruch")
    if report.get("worker_ended"):
        raise Failure("Der Prüfprozess wurde beendet, bevor dieser Test lief (z. B. durch einen Eingriff Ihres "
                      "Codes in andere Prozesse).", "abbruch")
    observation = outcome.observation
    if observation is not None and not well_formed(observation):
        raise Failure(f"Die Prüfung {during} lieferte unvollständige Beobachtungen – hat Ihr Code in die Prüfung "
                      "eingegriffen?", "abbruch")
    if observation is None or not outcome.completed:
        how = f"durch das Signal {report['signal']}" if report.get("signal") else "ohne Ergebnis (z. B. mit os._exit)"
        raise Failure(f"Der Prozess endete {during} {how}. Erwartet: Ihr Code kehrt normal zurück.", "abbruch")
    if "import_error" in observation:
        error = observation["import_error"]
        name, _, rest = error.get("where", "").partition(", Zeile ")
        line = f" (Zeile {rest.split(':')[0]})" if rest else ""
        raise Failure(f"{name or 'Ihre Datei'} lässt sich nicht importieren{line}: "
                      f"{describe_exception(error['type'], error['message'])}", "import")
    return observation


def raised(call, interrupt_expected=False):
    """The exception a call of the submission raised (a dict), or None; stubs end the test here."""
    error = call.get("raised")
    if error and error["interrupt"] and not interrupt_expected:
        raise Failure(f"Ihr Code hat {error['type']} ausgelöst und damit versucht, das Programm zu beenden "
                      f"({error_text(error)}). Erwartet: Die Funktion kehrt normal zurück.", "abbruch")
    if error and error["type"] == "NotImplementedError":
        raise Failure("Die Funktion ist noch nicht implementiert (sie löst NotImplementedError aus).",
                      "nicht_implementiert")
    if error and error.get("memory"):
        raise Failure(f"Ihr Code hat mehr Speicher angefordert, als die Bewertung erlaubt: {error_text(error)}",
                      "speicher")
    return error


def returned(call):
    return call.get("returned")


def describe_return(value):
    """A returned value in a sentence: short enough that the sentence's expectation still fits."""
    text = cap(value["repr"], 120)
    return text if value["type"] in text else f"{text} (Typ {cap(value['type'], 40)})"


def printed(outcome):
    """What the submission printed or logged during the call, as one capped line (empty: nothing)."""
    return cap(outcome.output, 120)


def snapshot(obj):
    """An independent deep copy of a ``state_dict``."""
    return copy.deepcopy(obj.state_dict())


def differences(expected, actual, path="state_dict"):
    """Describe where two nested structures of tensors and plain values differ (empty: equal)."""
    if isinstance(expected, torch.Tensor):
        if not isinstance(actual, torch.Tensor):
            return [f"{path}: Tensor erwartet, {cap(type(actual).__name__, 40)} gefunden"]
        if expected.shape != actual.shape or expected.dtype != actual.dtype or not torch.equal(expected, actual):
            return [f"{path}: Werte weichen ab"]
        return []
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: Dictionary erwartet, {cap(type(actual).__name__, 40)} gefunden"]
        missing = [key for key in expected if key not in actual]
        if missing:
            keys = cap(', '.join(map(repr, missing[:4])), 120)
            return [f"{path}: es fehlt der Schlüssel {keys}" if len(missing) == 1 else f"{path}: es fehlen die Schlüssel {keys}"]
        return [diff for key in expected for diff in differences(expected[key], actual[key], f"{path}[{key!r}]")]
    if isinstance(expected, (list, tuple)):
        if not isinstance(actual, (list, tuple)) or len(actual) != len(expected):
            return [f"{path}: Liste der Länge {len(expected)} erwartet"]
        return [diff for index, (e, a) in enumerate(zip(expected, actual)) for diff in differences(e, a, f"{path}[{index}]")]
    if type(expected) is not type(actual) or expected != actual:
        return [f"{path}: {cap(repr(expected), 60)} erwartet, {cap(repr(actual), 60)} gefunden"]
    return []


def summary(diffs):
    shown = "; ".join(diffs[:3])
    return cap(shown + (f" (und {len(diffs) - 3} weitere Abweichungen)" if len(diffs) > 3 else ""), 400)


def key_paths(structure, matches, path=""):
    """The keys (as ``['a']['b']``) under which ``matches`` holds, in a plain observed structure."""
    if matches(structure):
        return [path or "(oberste Ebene)"]
    if isinstance(structure, dict) and "__objekt__" not in structure and "__numpy__" not in structure:
        return [found for key, value in structure.items() for found in key_paths(value, matches, f"{path}[{key!r}]")]
    if isinstance(structure, list):
        return [found for index, value in enumerate(structure) for found in key_paths(value, matches, f"{path}[{index}]")]
    return []


def harmless_globals():
    """Types that ``weights_only`` refuses by default but that run no code: torch's version string
    and NumPy arrays. With them allowed, the trusted side can still read what a file holds."""
    import numpy as np
    from torch.torch_version import TorchVersion

    try:
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # NumPy 1
        from numpy.core.multiarray import _reconstruct, scalar
    dtypes = [type(np.dtype(name)) for name in ("uint32", "int32", "int64", "float32", "float64", "bool")]
    return [TorchVersion, np.ndarray, np.dtype, _reconstruct, scalar, *dtypes]


def read_content(data):
    """What the bytes of a checkpoint hold, read here with ``weights_only=True``: ``(content, refusal)``.

    ``refusal`` is the exception of a load without any allowlist (None: the file is safe to load).
    If only harmless types stood in the way, ``content`` is read with them allowed; else it is None.
    """
    torch.serialization.clear_safe_globals()
    try:
        return torch.load(io.BytesIO(data), weights_only=True), None
    except Exception as error:
        refused = error
    try:
        with torch.serialization.safe_globals(harmless_globals()):
            return torch.load(io.BytesIO(data), weights_only=True), refused
    except Exception:
        return None, refused


def refusal(message, content):
    """Why weights_only refused a file: the rejected global and the key under which it sits."""
    name = rejected_global(message)
    if not name:
        return f"{describe_exception('UnpicklingError', message)}."
    where = key_paths(content or {}, lambda value: isinstance(value, dict) and (
        value.get("__objekt__") == name or ("__numpy__" in value and "numpy" in name)))
    return f"Abgelehnt wird der Typ {name}" + (f", gespeichert unter {where[0]}." if where else ".")


def torch_bytes(value):
    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


def broken_files(checkpoint):
    """Files that are no checkpoint at all, for every loading function; ``checkpoint``: a valid one."""
    return {
        "einer leeren Datei": b"",
        "einer abgeschnittenen Datei": checkpoint[: len(checkpoint) // 2],
        "einer Datei mit Zufallsbytes": bytes(range(256)) * 8,
        "einer Textdatei": "Das ist kein Checkpoint, sondern eine Textdatei.\n".encode(),
        "einer Datei mit einer Liste statt eines Dictionarys": torch_bytes([1, 2, 3]),
    }


def expect_no_code_ran(outcome, function):
    """The crafted file was read with torch.load, and the code hidden in it did not run."""
    observation = observed(outcome, f"in {function}")
    raised(observation["call"])
    check(observation.get("load_called"),
          f"{function} hat die manipulierte Datei nicht mit torch.load gelesen; so lässt sich nicht prüfen, ob "
          "sie sicher geladen wird. Erwartet: torch.load(filename, weights_only=True).")
    check(not any(path.name == MARKER for path in outcome.folder.rglob("*")),
          f"Beim Laden einer manipulierten Datei in {function} wurde darin versteckter Code ausgeführt. Erwartet: "
          "torch.load(..., weights_only=True) ausdrücklich, denn nicht überall ist das die Voreinstellung.")


def expect_interrupt_propagates(outcome, function, kind):
    """A ``kind`` (KeyboardInterrupt, SystemExit) raised by torch.load must leave ``function``."""
    observation = observed(outcome, f"in {function}")
    error = raised(observation["call"], interrupt_expected=True)
    check(observation.get("load_called"),
          f"{function} hat die Datei nicht mit torch.load gelesen; so lässt sich nicht prüfen, ob ein {kind} "
          "beim Laden durchgelassen wird. Erwartet: torch.load(filename, weights_only=True).")
    what = f"löste {error['type']} aus" if error else f"gab {describe_return(returned(observation['call']))} zurück"
    check(error is not None and error["type"] == kind,
          f"Ein {kind} während torch.load wurde abgefangen ({function} {what}). Erwartet: nur except Exception, "
          "damit Strg+C und sys.exit() das Programm beenden, statt dass es von vorn beginnt und den guten "
          "Checkpoint überschreibt.")
