"""Training, das sich bitgenau fortsetzen lässt: Modell mit Dropout, AdamW, OneCycleLR,
mischender DataLoader und Augmentierung mit NumPy und Pythons ``random``.

Die Trainingsschleife :func:`train_exactly` ruft die Funktionen der Lektion
„Training exakt fortsetzen“ auf: zu Beginn ``resume_training_state``, nach jeder Epoche und bei
einer Unterbrechung ``save_training_state``.
"""

import random
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from course.training import BATCH_SIZE, DigitsCNN, load_data

MAX_LEARNING_RATE = 1e-2
DROPOUT = 0.25
SEED = 0


class AugmentedDigits(Dataset):
    """Die Ziffernbilder mit zufälliger Augmentierung: Rauschen aus NumPy, Verschiebung aus ``random``."""

    def __init__(self, tensor_dataset):
        self.images, self.labels = tensor_dataset.tensors

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        noise = torch.from_numpy(np.random.normal(0.0, 0.05, size=(1, 8, 8)).astype(np.float32))
        shift = random.choice((-1, 0, 1))
        return torch.roll(self.images[index] + noise, shifts=shift, dims=-1), self.labels[index]


def seed_everything(seed=SEED):
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def build_training(epochs, seed=SEED):
    """Erzeugt in der richtigen Reihenfolge: Modell → (Gerät) → Optimierer → Scheduler, dazu den DataLoader."""
    seed_everything(seed)
    train_data, _ = load_data()
    loader = DataLoader(AugmentedDigits(train_data), batch_size=BATCH_SIZE, shuffle=True)
    model = DigitsCNN(dropout=DROPOUT)  # auf der GPU hier: model.to(device), vor dem Optimierer
    optimizer = torch.optim.AdamW(model.parameters(), lr=MAX_LEARNING_RATE / 25, weight_decay=1e-2)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=MAX_LEARNING_RATE, total_steps=epochs * len(loader)
    )
    return model, optimizer, scheduler, loader


def fresh_progress():
    return {"epoch": 0, "batch": 0, "global_step": 0, "best_loss": float("inf"), "loader_rng_state": None}


@dataclass
class History:
    """Was ein Prozess trainiert hat: je Schritt Verlust und Lernrate, dazu das Ende."""

    steps: list = field(default_factory=list)
    losses: list = field(default_factory=list)
    learning_rates: list = field(default_factory=list)
    interrupted: bool = False


def train_exactly(save_training_state, resume_training_state, epochs, filename,
                  should_stop=lambda progress: False, on_epoch_end=lambda progress, model, history: None,
                  build=build_training):
    """Trainiert bis ``epochs`` Epochen abgeschlossen sind; setzt einen vorhandenen Checkpoint fort.

    Speichert nach jeder Epoche. Nach jedem Schritt und nach dem Speichern am Ende einer Epoche
    ruft die Schleife ``should_stop(progress)`` auf. Ist das Ergebnis ``True``, speichert sie
    (falls noch nicht geschehen) und endet; ``history.interrupted`` ist dann ``True``.
    ``on_epoch_end(progress, model, history)`` meldet den Fortschritt nach jeder Epoche;
    ``build(epochs)`` erzeugt Modell, Optimierer, Scheduler und DataLoader.
    Gibt ``(model, history)`` zurück.
    """
    model, optimizer, scheduler, loader = build(epochs)
    progress, batches = resume_training_state(filename, model, optimizer, scheduler, loader)
    progress = progress or fresh_progress()
    history = History()
    loss_function = nn.CrossEntropyLoss()
    while progress["epoch"] < epochs:
        if batches is None:  # Beginn einer Epoche: den Zustand vor iter(loader) festhalten
            progress["loader_rng_state"] = torch.get_rng_state()
            batches = iter(loader)
        model.train()
        for images, labels in batches:
            optimizer.zero_grad()
            loss = loss_function(model(images), labels)
            loss.backward()
            optimizer.step()
            history.learning_rates.append(scheduler.get_last_lr()[0])
            scheduler.step()
            progress["batch"] += 1
            progress["global_step"] += 1
            history.steps.append(progress["global_step"])
            history.losses.append(loss.item())
            progress["best_loss"] = min(progress["best_loss"], loss.item())
            if should_stop(progress):
                save_training_state(filename, model, optimizer, scheduler, progress)
                history.interrupted = True
                return model, history
        progress["epoch"] += 1
        progress["batch"] = 0
        progress["loader_rng_state"] = torch.get_rng_state()  # daraus mischt die nächste Epoche
        batches = None
        save_training_state(filename, model, optimizer, scheduler, progress)
        on_epoch_end(progress, model, history)
        if progress["epoch"] < epochs and should_stop(progress):
            history.interrupted = True
            return model, history
    return model, history
