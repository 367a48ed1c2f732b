"""Kommandozeile der Trainingsdemo: ``python -m course`` (oder ``make train``).

Standard ist die Schleife der Lektion „Training exakt fortsetzen“ mit dem vollständigen
Trainingszustand; ``--lektion 1`` startet die Schleife der Lektion „Checkpoints“. Mit Strg+C
oder SIGTERM unterbrochen, speichert die Demo nach dem laufenden Schritt und endet; ein neuer
Aufruf setzt fort.
"""

import argparse
import importlib
import signal
import sys
import time

from course.exact_training import train_exactly
from course.training import german_number, load_data, evaluate, train

STUB_HINT = {
    1: "Ergänzen Sie exercises/checkpoints.py oder starten Sie die Demo mit der Musterlösung: make train LEKTION=1 LOESUNG=1",
    2: "Ergänzen Sie exercises/training_state.py oder starten Sie die Demo mit der Musterlösung: make train LOESUNG=1",
}


class StopRequest:
    """Merkt sich Strg+C (SIGINT) und SIGTERM, damit die Schleife am nächsten Schritt sauber endet."""

    def __init__(self):
        self.signal = None

    def __enter__(self):
        self._previous = {number: signal.signal(number, self._remember) for number in (signal.SIGINT, signal.SIGTERM)}
        return self

    def __exit__(self, *exc_info):
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def _remember(self, number, frame):
        self.signal = signal.Signals(number).name

    def __call__(self, progress):
        return self.signal is not None


def run_lesson_two(module, epochs, filename):
    _, test_data = load_data()
    started = time.perf_counter()

    def report(progress, model):
        nonlocal started
        accuracy = evaluate(model, test_data)
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        print(f"Epoche {progress['epoch']}/{epochs}: bester Verlust {german_number(progress['best_loss'], 4)}, "
              f"Genauigkeit {german_number(100 * accuracy, 1)} %, {german_number(seconds, 2)} s", flush=True)

    with StopRequest() as stop:
        _, history = train_exactly(module.save_training_state, module.resume_training_state, epochs, filename,
                                   should_stop=stop, on_epoch_end=report)
    if history.interrupted:
        print(f"Unterbrochen ({stop.signal}): Der Trainingszustand ist in {filename!r} gespeichert. "
              "Ein neuer Aufruf setzt das Training genau dort fort.", flush=True)
    else:
        print(f"Das Training ist abgeschlossen: {epochs} Epochen.", flush=True)


def main(argv=None):
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
    try:
        if args.lektion == 1:
            module = importlib.import_module(f"{package}.checkpoints")
            train(module.save_checkpoint, module.load_checkpoint, args.epochen, args.checkpoint or "checkpoint.pth")
        else:
            module = importlib.import_module(f"{package}.training_state")
            run_lesson_two(module, args.epochen, args.checkpoint or "trainingszustand.pth")
    except NotImplementedError:
        print(f"Die Aufgaben sind noch nicht implementiert. {STUB_HINT[args.lektion]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
