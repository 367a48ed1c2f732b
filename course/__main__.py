"""Kommandozeile der Trainingsdemo: ``python -m course`` (oder ``make train``).

Standard ist die Schleife der Lektion „Training exakt fortsetzen“ mit dem vollständigen
Trainingszustand; ``--lektion 1`` startet die Schleife der Lektion „Checkpoints“.

Strg+C (SIGINT) und SIGTERM werden vom ersten Augenblick an abgefangen, auch während die Demo noch
torch importiert und die Daten lädt. Die Demo schreibt dann eine Zeile, was gespeichert ist, und
endet ohne Traceback mit dem in Shells üblichen Status 128 + Signalnummer (130 bzw. 143):

* vor Beginn des Trainings sofort; gespeichert wurde dann nichts,
* mit ``--lektion 2`` nach dem laufenden Schritt, mit gespeichertem Trainingszustand,
* mit ``--lektion 1`` sofort (der Checkpoint kennt nur ganze Epochen); ein Signal während
  ``save_checkpoint`` wartet, bis die Datei geschrieben ist.

Hier stehen deshalb oben nur leichte Importe; torch und die Trainingsschleifen werden erst
importiert, wenn die Signale abgefangen sind.
"""

import argparse
import importlib
import os
import signal
import sys

STUB_HINT = {
    1: "Ergänzen Sie exercises/checkpoints.py oder starten Sie die Demo mit der Musterlösung: make train LEKTION=1 LOESUNG=1",
    2: "Ergänzen Sie exercises/training_state.py oder starten Sie die Demo mit der Musterlösung: make train LOESUNG=1",
}
SIGNAL_NAMES = {signal.SIGINT: "Strg+C", signal.SIGTERM: "SIGTERM"}


class Interrupted(BaseException):
    """Bricht das Training der Lektion 1 sofort ab (nie während ``save_checkpoint``)."""


class StopRequest:
    """Merkt sich Strg+C (SIGINT) und SIGTERM und entscheidet je nach Phase, was geschieht.

    ``phase`` ist ``"start"`` (sofort enden, nichts ist gespeichert), ``"steps"`` (die Schleife
    der Lektion 2 fragt nach jedem Schritt nach und speichert) oder ``"epochs"`` (Lektion 1:
    sofort abbrechen, außer während gespeichert wird).
    """

    def __init__(self):
        self.signal = None
        self.phase = "start"
        self.saving = False
        self.progress = None

    def install(self):
        for number in SIGNAL_NAMES:
            signal.signal(number, self._handle)

    @property
    def name(self):
        return SIGNAL_NAMES[self.signal]

    @property
    def exit_status(self):
        return 128 + self.signal

    def _handle(self, number, frame):
        if self.signal is None:
            self.signal = signal.Signals(number)
        if self.phase == "start":
            say(f"Abgebrochen ({self.name}) vor Beginn des Trainings: Es wurde nichts gespeichert.")
            os._exit(self.exit_status)
        if self.phase == "epochs" and not self.saving:
            raise Interrupted

    def __call__(self, progress):
        """Für ``train_exactly(should_stop=...)``: ``True``, sobald ein Signal kam."""
        self.progress = dict(progress)  # bei True genau der Stand, den die Schleife jetzt speichert
        return self.signal is not None


def say(line):
    """Schreibt eine Zeile sofort, auch aus einem Signal-Handler heraus (ohne Pythons Puffer)."""
    try:
        sys.stdout.flush()
    except (OSError, RuntimeError):  # RuntimeError: der Handler unterbrach gerade ein print
        pass
    os.write(sys.stdout.fileno(), f"{line}\n".encode())


def position(progress, epochs, steps_per_epoch):
    """``Schritt 30 (Epoche 2/10, 7 von 23 Batches)`` bzw. ``Schritt 46 (Epoche 2/10 abgeschlossen)``."""
    if progress["batch"] == 0:
        return f"Schritt {progress['global_step']} (Epoche {progress['epoch']}/{epochs} abgeschlossen)"
    return (f"Schritt {progress['global_step']} (Epoche {progress['epoch'] + 1}/{epochs}, "
            f"{progress['batch']} von {steps_per_epoch} Batches)")


def run_lesson_one(module, epochs, filename, stop):
    from course.training import train

    state = {"saved": 0, "started": 0}

    def load(model, optimizer, filename):
        state["started"] = state["saved"] = module.load_checkpoint(model, optimizer, filename)
        stop.phase = "epochs"
        return state["saved"]

    def save(model, optimizer, epoch, filename):
        stop.saving = True
        try:
            module.save_checkpoint(model, optimizer, epoch, filename)
            state["saved"] = epoch
        finally:
            stop.saving = False
        if stop.signal is not None:
            raise Interrupted

    try:
        train(save, load, epochs, filename)
    except Interrupted:
        stop.phase = "done"
        saved = state["saved"]
        if saved >= epochs:
            print(f"Unterbrochen ({stop.name}): Das Training ist abgeschlossen, "
                  f"{saved} Epochen sind in {filename!r} gespeichert.")
        elif saved > 0:
            print(f"Unterbrochen ({stop.name}) in Epoche {saved + 1}/{epochs}: In {filename!r} ist der Stand nach "
                  f"{saved} abgeschlossenen {'Epoche' if saved == 1 else 'Epochen'} gespeichert; ein neuer Aufruf beginnt Epoche {saved + 1} von vorn.")
        else:
            print(f"Unterbrochen ({stop.name}) in Epoche 1/{epochs}: Es wurde noch nichts gespeichert; "
                  "ein neuer Aufruf beginnt von vorn.")
        return stop.exit_status
    stop.phase = "done"
    return stop.exit_status if stop.signal is not None else 0


def run_lesson_two(module, epochs, filename, stop):
    import time

    from course.exact_training import train_exactly
    from course.training import evaluate, german_number, load_data

    _, test_data = load_data()
    state = {"steps_per_epoch": 0, "reported": 0, "done_before": False}
    started = time.perf_counter()

    def resume(filename, model, optimizer, scheduler, loader):
        progress, batches = module.resume_training_state(filename, model, optimizer, scheduler, loader)
        state["steps_per_epoch"] = len(loader)
        if progress is not None and progress["epoch"] >= epochs:
            print(f"Das Training ist bereits abgeschlossen: {progress['epoch']} von {epochs} Epochen.", flush=True)
            state["done_before"] = True
        elif progress is not None:
            print(f"Setze das Training nach Schritt {progress['global_step']} fort: Epoche {progress['epoch'] + 1}/{epochs}, "
                  f"Batch {progress['batch'] + 1} von {len(loader)}.", flush=True)
        stop.phase = "steps"
        nonlocal started
        started = time.perf_counter()
        return progress, batches

    def report(progress, model, history):
        nonlocal started
        losses = history.losses[state["reported"]:]
        state["reported"] = len(history.losses)
        accuracy = evaluate(model, test_data)
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        partial = "" if len(losses) == state["steps_per_epoch"] else f" (Mittel der {len(losses)} Batches seit dem Fortsetzen)"
        print(f"Epoche {progress['epoch']}/{epochs}: Verlust {german_number(sum(losses) / len(losses), 4)}{partial}, "
              f"Genauigkeit {german_number(100 * accuracy, 1)} %, {german_number(seconds, 2)} s", flush=True)

    _, history = train_exactly(module.save_training_state, resume, epochs, filename,
                               should_stop=stop, on_epoch_end=report)
    stop.phase = "done"
    if history.interrupted:
        where = position(stop.progress, epochs, state["steps_per_epoch"])
        print(f"Unterbrochen ({stop.name}): In {filename!r} ist der Stand nach {where} gespeichert; "
              "ein neuer Aufruf setzt genau dort fort.", flush=True)
        return stop.exit_status
    if not state["done_before"]:
        print(f"Das Training ist abgeschlossen: {epochs} Epochen.", flush=True)
    return stop.exit_status if stop.signal is not None else 0


def main(argv=None, stop=None):
    stop = stop or StopRequest()
    parser = argparse.ArgumentParser(
        prog="python -m course",
        description="Trainingsdemo mit Checkpoints: ein zweiter Aufruf setzt das Training fort.",
    )
    parser.add_argument("--lektion", type=int, choices=(1, 2), default=2,
                        help="1: Checkpoint aus Modell, Optimierer und Epoche; 2: vollständiger Zustand (Standard)")
    parser.add_argument("--epochen", type=int, default=10, help="Ziel: so viele abgeschlossene Epochen (Standard: 10)")
    parser.add_argument("--checkpoint", help="Checkpoint-Datei (Standard: checkpoint.pth bzw. trainingszustand.pth)")
    parser.add_argument("--loesung", action="store_true", help="die Musterlösung statt Ihrer Funktionen verwenden")
    args = parser.parse_args(argv)

    package = "solutions" if args.loesung else "exercises"
    filename = args.checkpoint or ("checkpoint.pth" if args.lektion == 1 else "trainingszustand.pth")
    functions = "der Musterlösung" if args.loesung else "Ihren Funktionen"
    print(f"Trainingsdemo der Lektion {args.lektion} mit {functions}: bis Epoche {args.epochen}, "
          f"Checkpoint {filename!r}. Abbrechen mit Strg+C.", flush=True)
    try:
        if args.lektion == 1:
            module = importlib.import_module(f"{package}.checkpoints")
            return run_lesson_one(module, args.epochen, filename, stop)
        module = importlib.import_module(f"{package}.training_state")
        return run_lesson_two(module, args.epochen, filename, stop)
    except NotImplementedError:
        stop.phase = "done"
        print(f"Die Aufgaben sind noch nicht implementiert. {STUB_HINT[args.lektion]}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    request = StopRequest()
    request.install()  # vor allen schweren Importen
    sys.stdout.reconfigure(line_buffering=True)
    sys.exit(main(stop=request))
