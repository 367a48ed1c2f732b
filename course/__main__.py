"""Kommandozeile der Trainingsdemo: ``python -m course`` (oder ``make train``).

Standard ist die Schleife der Lektion „Training exakt fortsetzen“ mit dem vollständigen
Trainingszustand; ``--lektion 1`` startet die Schleife der Lektion „Checkpoints“. ``--verwaltung``
speichert in derselben Schleife über den ``CheckpointManager`` der Lektion „Checkpoints verwalten“
in einen Ordner und setzt vom neuesten gültigen Checkpoint fort.

Strg+C (SIGINT) und SIGTERM werden vom ersten Augenblick an abgefangen, auch während die Demo noch
torch importiert und die Daten lädt. Die Demo schreibt dann eine Zeile, was gespeichert ist, und
endet ohne Traceback mit dem in Shells üblichen Status 128 + Signalnummer (130 bzw. 143):

* vor Beginn des Trainings sofort; gespeichert wurde dann nichts,
* mit ``--lektion 2`` (auch mit ``--verwaltung``) nach dem laufenden Schritt, mit gespeichertem
  Trainingszustand,
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
    4: "Ergänzen Sie exercises/verwaltung.py oder starten Sie die Demo mit der Musterlösung: make train VERWALTUNG=1 LOESUNG=1",
}
KEEP = 3  # --verwaltung: so viele neueste Checkpoints behält der CheckpointManager
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


class ManagedCheckpoints:
    """``--verwaltung``: der Trainingszustand der Lektion 2, gespeichert über einen ``CheckpointManager``.

    Die Schleife ruft ``save`` auf; dort wird der Zustand nur festgehalten. Gespeichert wird er
    mit ``commit``, sobald der mittlere Verlust der Epoche (bzw. der Batches seit ihrem Beginn)
    feststeht: am Ende der Epoche oder nach einer Unterbrechung. Zwischen beiden Aufrufen
    trainiert die Schleife nicht weiter. Die Zufallszustände kommen aus der Musterlösung der
    Lektion 2.
    """

    def __init__(self, manager_class, folder):
        self.folder = folder
        self.manager = manager_class(folder, keep=KEEP, monitor="verlust", mode="min")
        self.pending = None

    def save(self, filename, model, optimizer, scheduler, progress):
        from solutions.training_state import capture_rng_states

        self.pending = (progress["global_step"], {
            "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(),
            "scheduler_state_dict": scheduler.state_dict(),
            "progress": dict(progress),
            "rng": capture_rng_states(),
        })

    def commit(self, losses):
        """Speichert den festgehaltenen Zustand mit dem mittleren Verlust ``losses``; gibt den Pfad zurück."""
        if self.pending is None:
            return None
        step, checkpoint = self.pending
        self.pending = None
        return self.manager.save(step, checkpoint, {"verlust": sum(losses) / len(losses)})

    def resume(self, filename, model, optimizer, scheduler, loader):
        """Wie ``resume_training_state`` der Lektion 2, aber aus ``latest_valid()``."""
        import torch

        from solutions.training_state import restore_rng_states

        path = self.manager.latest_valid()
        if path is None:
            print(f"Kein gültiger Checkpoint in {self.folder!r}: Das Training beginnt von vorn.", flush=True)
            return None, None
        checkpoint = torch.load(path, weights_only=True)["state"]
        print(f"Lade {path.name}, den neuesten gültigen Checkpoint in {self.folder!r}.", flush=True)
        model.load_state_dict(checkpoint["model_state_dict"])
        optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
        scheduler.load_state_dict(checkpoint["scheduler_state_dict"])
        progress = checkpoint["progress"]
        if progress["batch"] == 0:
            restore_rng_states(checkpoint["rng"])
            return progress, iter(loader)
        torch.set_rng_state(progress["loader_rng_state"])
        batches = iter(loader)
        for _ in range(progress["batch"]):
            next(batches)
        restore_rng_states(checkpoint["rng"])
        return progress, batches


def run_lesson_two(module, epochs, filename, stop, managed=None):
    import time

    from course.exact_training import train_exactly
    from course.training import evaluate, german_number, load_data

    _, test_data = load_data()
    state = {"steps_per_epoch": 0, "reported": 0, "done_before": False, "saved": filename}
    started = time.perf_counter()
    save = managed.save if managed else module.save_training_state
    resume_state = managed.resume if managed else module.resume_training_state

    def resume(filename, model, optimizer, scheduler, loader):
        progress, batches = resume_state(filename, model, optimizer, scheduler, loader)
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
        if managed:
            state["saved"] = str(managed.commit(losses))
        accuracy = evaluate(model, test_data)
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        partial = "" if len(losses) == state["steps_per_epoch"] else f" (Mittel der {len(losses)} Batches seit dem Fortsetzen)"
        print(f"Epoche {progress['epoch']}/{epochs}: Verlust {german_number(sum(losses) / len(losses), 4)}{partial}, "
              f"Genauigkeit {german_number(100 * accuracy, 1)} %, {german_number(seconds, 2)} s", flush=True)

    _, history = train_exactly(save, resume, epochs, filename, should_stop=stop, on_epoch_end=report)
    if managed and managed.pending is not None:  # unterbrochen mitten in einer Epoche
        state["saved"] = str(managed.commit(history.losses[state["reported"]:]))
    stop.phase = "done"
    if history.interrupted:
        where = position(stop.progress, epochs, state["steps_per_epoch"])
        print(f"Unterbrochen ({stop.name}): In {state['saved']!r} ist der Stand nach {where} gespeichert; "
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
    parser.add_argument("--checkpoint", help="Checkpoint-Datei (Standard: checkpoint.pth bzw. trainingszustand.pth; "
                                             "mit --verwaltung der Ordner, Standard: checkpoints)")
    parser.add_argument("--loesung", action="store_true", help="die Musterlösung statt Ihrer Funktionen verwenden")
    parser.add_argument("--verwaltung", action="store_true",
                        help="Lektion 4: über den CheckpointManager in einen Ordner speichern (Standard: "
                             f"checkpoints; die {KEEP} neuesten und der beste nach dem mittleren Verlust der Epoche "
                             "bleiben) und vom neuesten gültigen Checkpoint fortsetzen; nur mit --lektion 2, "
                             "die Zufallszustände kommen aus der Musterlösung der Lektion 2")
    args = parser.parse_args(argv)
    if args.verwaltung and args.lektion != 2:
        parser.error("--verwaltung verwendet die Schleife der Lektion 2 und passt nicht zu --lektion 1")

    package = "solutions" if args.loesung else "exercises"
    functions = "der Musterlösung" if args.loesung else "Ihren Funktionen"
    if args.verwaltung:
        folder = args.checkpoint or "checkpoints"
        print(f"Trainingsdemo der Lektion 4 mit {functions}: bis Epoche {args.epochen}, Ordner {folder!r} "
              f"(die {KEEP} neuesten Checkpoints und der beste bleiben). Abbrechen mit Strg+C.", flush=True)
        try:
            module = importlib.import_module(f"{package}.verwaltung")
            managed = ManagedCheckpoints(module.CheckpointManager, folder)
            return run_lesson_two(None, args.epochen, folder, stop, managed=managed)
        except NotImplementedError:
            stop.phase = "done"
            print(f"Die Aufgabe ist noch nicht implementiert. {STUB_HINT[4]}", file=sys.stderr)
            return 1
    filename = args.checkpoint or ("checkpoint.pth" if args.lektion == 1 else "trainingszustand.pth")
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
