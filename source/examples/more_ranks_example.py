"""Zwei Ränge speichern, drei laden: Für den neuen Rang fehlt der Schlüssel seines Zufallsgenerators.

Start: ``python examples/more_ranks_example.py``. Das Skript startet sich selbst zweimal mit torchrun,
erst mit zwei Rängen zum Speichern, dann mit drei zum Laden.
"""

import logging
import os
import subprocess
import sys
import tempfile

import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
from torch import nn
from torch.distributed.checkpoint.api import CheckpointException
from torch.distributed.checkpoint.state_dict import get_model_state_dict, set_model_state_dict
from torch.distributed.checkpoint.stateful import Stateful
from torch.distributed.fsdp import fully_shard

SEED = 0


class AppState(Stateful):
    """Modell, Schritt und Zufallsgenerator dieses Rangs unter ``rng.rang-<Rang>``, aufgebaut wie in Aufgabe 8."""

    def __init__(self, model):
        self.model = model
        self.step = 0
        self.own_rng_saved = True  # steht der Schlüssel dieses Rangs im Checkpoint?

    def state_dict(self):
        rng = {f"rang-{dist.get_rank()}": torch.get_rng_state()} if self.own_rng_saved else {}
        return {"model": get_model_state_dict(self.model), "step": self.step, "rng": rng}

    def load_state_dict(self, loaded):
        set_model_state_dict(self.model, loaded["model"])
        self.step = loaded["step"]
        if self.own_rng_saved:
            torch.set_rng_state(loaded["rng"][f"rang-{dist.get_rank()}"])
        else:  # ein neuer Rang: ein eigener Startwert aus Rang und Schritt
            torch.manual_seed(fresh_seed(self.step))


def fresh_seed(step):
    """Startwert eines Rangs, dessen Zufallszustand im Checkpoint fehlt; verschieden für bis zu 1000 Ränge."""
    return SEED + 1000 * step + dist.get_rank()


def load(folder, state, check_keys):
    """Lädt ``folder`` in ``state``; mit ``check_keys`` verlangt die Vorlage den eigenen Zufallszustand nur,
    wenn der Checkpoint ihn enthält (alles andere immer)."""
    if check_keys:
        saved = dcp.FileSystemReader(folder).read_metadata().state_dict_metadata  # flache Schlüssel
        state.own_rng_saved = f"app.rng.rang-{dist.get_rank()}" in saved
    dcp.load({"app": state}, checkpoint_id=folder)


def print_by_rank(text):
    """Jeder Rang liefert seinen Text; Rang 0 gibt alle der Reihe nach aus."""
    texts = [None] * dist.get_world_size()
    dist.all_gather_object(texts, text)
    if dist.get_rank() == 0:
        for rank, line in enumerate(texts):
            print(f"  Rang {rank}: {line}", flush=True)


def next_numbers():
    """Die nächsten drei Zufallszahlen dieses Rangs, gerundet."""
    return [round(number, 4) for number in torch.rand(3).tolist()]


def run(phase, folder):
    torch.manual_seed(SEED)  # dieselben Anfangsgewichte auf allen Rängen
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    fully_shard(model)
    state = AppState(model)
    torch.manual_seed(SEED + dist.get_rank())  # ein eigener Zufallsgenerator je Rang, etwa für Dropout
    if phase == "speichern":
        torch.rand(1000)  # das Training hat schon Zufallszahlen verbraucht
        state.step = 3
        dcp.save({"app": state}, checkpoint_id=folder)
        print_by_rank(f"gespeichert, die nächsten Zufallszahlen wären {next_numbers()}")
        return
    try:
        load(folder, state, check_keys=False)  # die Vorlage verlangt immer den eigenen Schlüssel
    except CheckpointException as error:  # eine BaseException, keine Exception
        print_by_rank(str(error).splitlines()[0])
        if dist.get_rank() == 0:
            cause, _ = error.failures[2]  # je Rang mit Fehler: Ausnahme und Traceback
            print(f"  Ursache auf Rang 2: {type(cause).__name__}: {cause}")
            print("Mit check_keys=True verlangt die Vorlage den eigenen Schlüssel nur, wenn er im Checkpoint steht:")
    load(folder, state, check_keys=True)
    rng = "geladen" if state.own_rng_saved else f"neu, Startwert {fresh_seed(state.step)}"
    print_by_rank(f"Schritt {state.step}, Zufallsgenerator {rng}, die nächsten Zufallszahlen {next_numbers()}")


if "RANK" in os.environ:  # ein Rang, von torchrun gestartet
    logging.disable(logging.WARNING)  # DCP schreibt beim Scheitern zusätzlich Tracebacks ins Log
    dist.init_process_group("gloo")
    run(*sys.argv[1:])
    dist.barrier()
    dist.destroy_process_group()
else:
    with tempfile.TemporaryDirectory() as folder:
        for ranks, phase, label in ((2, "speichern", "Zwei Ränge speichern"),
                                    (3, "laden", "Drei Ränge laden, die Vorlage wie in Aufgabe 8")):
            print(f"{label} (torchrun --nproc-per-node={ranks}):", flush=True)
            subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",  # = torchrun
                            f"--nproc-per-node={ranks}", __file__, phase, os.path.join(folder, "schritt-000003")],
                           env={**os.environ, "OMP_NUM_THREADS": "1"}, check=True)
