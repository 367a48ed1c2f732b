"""Verteilte Trainingsdemo der Lektion „Große Modelle und verteiltes Training“.

Ein kleines Netz lernt die 8×8-Ziffernbilder in mehreren Prozessen; jeder Prozess hält mit
``fully_shard`` (FSDP2) nur seinen Teil der Parameter und des Optimiererzustands. Gespeichert wird
mit den Funktionen der Aufgabe 8 (``exercises/verteilt.py``, mit ``--loesung`` die Musterlösung)
alle ``--alle`` Schritte in den Ordner ``--ordner``; ein neuer Aufruf setzt vom neuesten
vollständigen Checkpoint fort, bitgenau.

Zwei Arten, die Demo zu starten:

* ``torchrun --standalone --nproc-per-node=2 -m course.distributed_training`` – jeder von torchrun
  gestartete Prozess ist ein Rang des Trainings.
* ``python -m course.distributed_training`` (oder ``make train VERTEILT=1``) – die Demo startet
  torchrun selbst in diesem Prozess (``--standalone``, ``--prozesse`` Ränge) und endet nach
  Strg+C oder SIGTERM ohne die Fehlermeldungen von torchrun.

Strg+C und SIGTERM merkt sich jeder Rang nur. Nach jedem Schritt einigen sich alle Ränge mit einem
``all_reduce``, ob irgendwo ein Signal ankam; dann speichern alle gemeinsam und enden mit dem
Status 128 + Signalnummer (130 bzw. 143). Deshalb stehen oben nur leichte Importe: torch wird erst
importiert, wenn die Signale abgefangen sind.
"""

import argparse
import importlib
import os
import signal
import sys

SEED = 0
GLOBAL_BATCH = 64  # Bilder je Schritt über alle Ränge
LEARNING_RATE = 3e-3
WARMUP = 50
DROPOUT = 0.2
SIGNAL_NAMES = {signal.SIGINT: "Strg+C", signal.SIGTERM: "SIGTERM"}
STUB_HINT = ("Ergänzen Sie exercises/verteilt.py oder starten Sie die Demo mit der Musterlösung: "
             "make train VERTEILT=1 LOESUNG=1")


class StopSignal:
    """Merkt sich Strg+C und SIGTERM. Vor Beginn des Trainings endet der Prozess sofort."""

    def __init__(self, announce):
        self.signal = None
        self.training = False
        self.announce = announce  # nur Rang 0 (bzw. der Starter) schreibt Meldungen

    def install(self):
        for number in SIGNAL_NAMES:
            signal.signal(number, self._handle)

    def _handle(self, number, frame):
        if self.signal is None:
            self.signal = signal.Signals(number)
        if not self.training:
            if self.announce:
                say(f"Abgebrochen ({SIGNAL_NAMES[self.signal]}) vor Beginn des Trainings: "
                    "Es wurde nichts Neues gespeichert.")
            os._exit(128 + self.signal)


def say(line):
    """Schreibt eine Zeile sofort, auch aus einem Signal-Handler heraus (ohne Pythons Puffer)."""
    try:
        sys.stdout.flush()
    except (OSError, RuntimeError):
        pass
    os.write(sys.stdout.fileno(), f"{line}\n".encode())


def german_number(value, digits):
    return f"{value:.{digits}f}".replace(".", ",")


def build(world_size):
    """Modell (mit ``fully_shard`` auf alle Ränge verteilt), AdamW und Scheduler; überall gleich initialisiert."""
    import torch
    from torch import nn
    from torch.distributed.fsdp import fully_shard

    torch.manual_seed(SEED)
    model = nn.Sequential(
        nn.Flatten(), nn.Linear(64, 256), nn.ReLU(), nn.Dropout(DROPOUT),
        nn.Linear(256, 256), nn.ReLU(), nn.Dropout(DROPOUT), nn.Linear(256, 10),
    )
    if world_size > 1:
        for layer in model:
            if isinstance(layer, nn.Linear):
                fully_shard(layer)
        fully_shard(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=1e-2)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / WARMUP))
    return model, optimizer, scheduler


def batch(images, labels, step, rank, world_size):
    """Die Bilder dieses Rangs für ``step``: hängen nur vom Schritt ab, nicht von der Vorgeschichte.

    Je Epoche eine eigene Reihenfolge (Startwert aus der Epoche); jeder Rang nimmt jedes
    ``world_size``-te Bild des Batches. Deshalb braucht ein Checkpoint als Position in den Daten
    nur die Zahl der Schritte.
    """
    import torch

    per_epoch = len(labels) // GLOBAL_BATCH
    epoch, position = divmod(step, per_epoch)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(1000 * SEED + epoch))
    chosen = order[position * GLOBAL_BATCH:(position + 1) * GLOBAL_BATCH][rank::world_size]
    return images[chosen], labels[chosen]


class StubFound(Exception):
    """Eine Funktion der Aufgabe ist noch der Stummel; alle Ränge haben es erfahren und enden."""


def call_task(function, *arguments):
    """Ruft eine Funktion der Aufgabe auf; meldet ein ``NotImplementedError`` auf irgendeinem Rang allen.

    Der Stummel wirft, bevor er mit den anderen Rängen spricht. Endete ein Rang sofort, beendete
    torchrun die anderen mit SIGTERM, womöglich bevor Rang 0 den Hinweis geschrieben hat. Deshalb
    einigen sich die Ränge erst, schreibt Rang 0 den Hinweis und enden alle nach einer Barriere.
    """
    import torch
    import torch.distributed as dist

    try:
        result, stub = function(*arguments), False
    except NotImplementedError:
        result, stub = None, True
    anyone = torch.tensor([int(stub)])
    dist.all_reduce(anyone, op=dist.ReduceOp.MAX)
    if int(anyone):
        if dist.get_rank() == 0:
            print(f"Die Aufgabe ist noch nicht implementiert. {STUB_HINT}", file=sys.stderr, flush=True)
        dist.barrier()
        raise StubFound
    return result


def train(args, stop):
    import torch.distributed as dist

    dist.init_process_group("gloo")
    try:
        return train_ranks(args, stop)
    except StubFound:
        return 1
    finally:
        dist.destroy_process_group()


def train_ranks(args, stop):
    import torch
    import torch.distributed as dist
    from torch import nn

    from course.training import load_data

    rank, world_size = dist.get_rank(), dist.get_world_size()
    package = "solutions" if args.loesung else "exercises"
    module = importlib.import_module(f"{package}.verteilt")
    train_data, test_data = load_data()
    images, labels = train_data.tensors
    model, optimizer, scheduler = build(world_size)
    torch.manual_seed(SEED + 1 + rank)  # Dropout: jeder Rang hat seinen eigenen Zufallsgenerator
    save_group = dist.new_group(backend="gloo") if args.asynchron else None
    state = call_task(module.TrainingState, model, optimizer, scheduler)
    start = call_task(module.load_latest, args.ordner, state)
    if rank == 0:
        if start >= args.schritte:
            print(f"Das Training ist bereits abgeschlossen: Schritt {start} von {args.schritte}.", flush=True)
        elif start > 0:
            print(f"Setze das Training nach Schritt {start} fort (neuester vollständiger Checkpoint in "
                  f"{args.ordner!r}).", flush=True)
        else:
            print(f"Kein vollständiger Checkpoint in {args.ordner!r}: Das Training beginnt bei Schritt 0.", flush=True)
    stop.training = True
    loss_function = nn.CrossEntropyLoss()
    pending = None
    losses = []
    saved = start
    for step in range(start, args.schritte):
        model.train()
        inputs, targets = batch(images, labels, step, rank, world_size)
        optimizer.zero_grad()
        loss = loss_function(model(inputs), targets)
        loss.backward()
        optimizer.step()
        scheduler.step()
        state.step = step + 1
        losses.append(loss.item())
        if args.sigterm_bei == state.step and rank == 0:
            os.kill(os.getpid(), signal.SIGTERM)
        flag = torch.tensor([0 if stop.signal is None else int(stop.signal)])
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)  # alle Ränge hören auf, sobald einer ein Signal hat
        interrupted = int(flag) != 0
        if state.step % args.alle == 0 or state.step == args.schritte or interrupted:
            if args.asynchron:
                pending = call_task(module.save_checkpoint_async, args.ordner, state, pending, save_group)
            else:
                call_task(module.save_checkpoint, args.ordner, state)
            saved = state.step
            mean = torch.tensor([sum(losses) / len(losses)])
            dist.all_reduce(mean)
            losses = []
            if rank == 0 and not interrupted:
                print(f"Schritt {state.step}/{args.schritte}: Verlust {german_number(float(mean) / world_size, 4)}, "
                      f"gespeichert in {module._checkpoint_path(args.ordner, state.step)}", flush=True)
        if interrupted:
            if pending is not None:
                pending.result()
            number = signal.Signals(int(flag))
            if rank == 0:
                print(f"Unterbrochen ({SIGNAL_NAMES[number]}): Der Stand nach Schritt {saved} ist in "
                      f"{str(module._checkpoint_path(args.ordner, saved))!r} gespeichert; ein neuer Aufruf setzt "
                      "genau dort fort.", flush=True)
            return 128 + number
    if pending is not None:
        pending.result()
    finish(args, model, optimizer, test_data, rank)
    return 0


def finish(args, model, optimizer, test_data, rank):
    """Genauigkeit auf den Testdaten; mit ``--gewichte`` den vollständigen Zustand als eine Datei (Rang 0)."""
    import torch
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_state_dict

    model.eval()
    with torch.no_grad():
        images, labels = test_data.tensors
        accuracy = (model(images).argmax(dim=1) == labels).float().mean().item()
    if args.gewichte:
        full = StateDictOptions(full_state_dict=True, cpu_offload=True)  # alles auf Rang 0 sammeln
        model_state, optimizer_state = get_state_dict(model, optimizer, options=full)
        if rank == 0:
            torch.save({"model": model_state, "optimizer": optimizer_state}, args.gewichte)
    if rank == 0:
        print(f"Das Training ist abgeschlossen: {args.schritte} Schritte, Genauigkeit auf den Testdaten "
              f"{german_number(100 * accuracy, 1)} %.", flush=True)


def launch(args, argv):
    """Startet torchrun in diesem Prozess: ``--standalone`` mit ``args.prozesse`` Rängen, die dieses Modul ausführen."""
    import logging

    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser, run

    os.environ.setdefault("OMP_NUM_THREADS", "1")  # ein Thread je Rang; sonst warnt torchrun
    for name in list(logging.Logger.manager.loggerDict):  # die Meldungen schreiben die Ränge selbst
        if name.startswith("torch.distributed.elastic"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    launcher = get_args_parser().parse_args(
        ["--standalone", f"--nproc-per-node={args.prozesse}", "-m", "course.distributed_training", *argv])
    try:
        run(launcher)
    except SignalException as exception:  # Strg+C oder SIGTERM an diesen Prozess; die Ränge haben gespeichert
        return 128 + int(exception.sigval)
    except ChildFailedError as error:  # mindestens ein Rang endete nicht mit 0; er hat selbst gemeldet, warum
        # Endet ein Rang, beendet torchrun die anderen mit SIGTERM (Status 143 oder -15). Nur wenn alle
        # Ränge wegen eines Signals endeten, wurde das Training unterbrochen; sonst ist es ein Fehler.
        codes = {128 - code if code < 0 else code for code in (f.exitcode for f in error.failures.values())}
        interrupted = {128 + number for number in SIGNAL_NAMES}
        return max(codes) if codes <= interrupted else 1
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    worker = "LOCAL_RANK" in os.environ  # von torchrun gestartet
    stop = StopSignal(announce=not worker or os.environ.get("RANK") == "0")
    stop.install()  # vor allen schweren Importen
    parser = argparse.ArgumentParser(
        prog="python -m course.distributed_training",
        description="Verteilte Trainingsdemo der Lektion 5: speichert mit DCP und setzt bitgenau fort.",
    )
    parser.add_argument("--schritte", type=int, default=400, help="Ziel: so viele Trainingsschritte (Standard: 400)")
    parser.add_argument("--alle", type=int, default=50, help="alle so vielen Schritte speichern (Standard: 50)")
    parser.add_argument("--ordner", default="checkpoints-verteilt",
                        help="Ordner der Checkpoints, bei mehreren Rechnern auf gemeinsamem Speicher "
                             "(Standard: checkpoints-verteilt)")
    parser.add_argument("--loesung", action="store_true", help="die Musterlösung statt Ihrer Funktionen verwenden")
    parser.add_argument("--async", dest="asynchron", action="store_true",
                        help="im Hintergrund speichern (save_checkpoint_async) statt mit save_checkpoint")
    parser.add_argument("--prozesse", type=int, default=2,
                        help="ohne torchrun: so viele Ränge startet die Demo selbst (Standard: 2)")
    parser.add_argument("--gewichte", help="am Ende Modell und Optimierer vollständig in diese Datei schreiben")
    parser.add_argument("--sigterm-bei", type=int, help="Rang 0 schickt sich nach diesem Schritt selbst SIGTERM")
    args = parser.parse_args(argv)
    if not worker:
        who = "der Musterlösung" if args.loesung else "Ihren Funktionen"
        print(f"Verteilte Trainingsdemo der Lektion 5 mit {who}: {args.prozesse} Prozesse, bis Schritt "
              f"{args.schritte}, Ordner {args.ordner!r}. Abbrechen mit Strg+C.", flush=True)
        return launch(args, argv)
    return train(args, stop)


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    status = main()
    # Ohne das Aufräumen des Interpreters enden: Dabei bricht gloo gelegentlich ab („terminate called without
    # an active exception“), und ein SIGTERM, das torchrun einem fertigen Rang noch schickt, träfe einen
    # Prozess, der seine Signal-Handler schon abgegeben hat. Beides machte den Exit-Status zufällig.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
