"""Trainingsdemo der Lektion „Checkpoints“: ein kleines CNN lernt die 8×8-Ziffernbilder von scikit-learn.

Die Schleife :func:`train` ruft zu Beginn ``load_checkpoint`` und nach jeder Epoche
``save_checkpoint`` auf. Ein zweiter Aufruf setzt das Training daher bei der gespeicherten Epoche
fort. Gestartet wird die Demo mit ``python -m course`` (siehe ``course/__main__.py``).
"""

import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

BATCH_SIZE = 64
LEARNING_RATE = 1e-3
TEST_FRACTION = 0.2


class DigitsCNN(nn.Module):
    """Kleines CNN für 8×8-Graustufenbilder mit zehn Klassen (Ziffern 0–9), wahlweise mit Dropout."""

    def __init__(self, dropout=0.0):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=3, padding=1),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, kernel_size=3, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(32 * 2 * 2, 10))

    def forward(self, images):
        return self.classifier(self.features(images).flatten(1))


def load_data(seed=0):
    """Gibt Trainings- und Testdaten als ``TensorDataset`` zurück.

    Die Bilder liegen scikit-learn bei; es wird nichts heruntergeladen. Gelesen wird dieselbe
    Datei wie von ``sklearn.datasets.load_digits``, aber ohne scikit-learn zu importieren (das
    kostet fast eine Sekunde).
    """
    import importlib.util

    import numpy as np

    sklearn = Path(importlib.util.find_spec("sklearn").origin).parent
    digits = np.loadtxt(sklearn / "datasets" / "data" / "digits.csv.gz", delimiter=",")
    images = torch.tensor(digits[:, :-1].reshape(-1, 8, 8), dtype=torch.float32).unsqueeze(1) / 16.0
    labels = torch.tensor(digits[:, -1].astype(np.int64), dtype=torch.long)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    n_test = int(len(labels) * TEST_FRACTION)
    test, train = order[:n_test], order[n_test:]
    return TensorDataset(images[train], labels[train]), TensorDataset(images[test], labels[test])


def train_one_epoch(model, optimizer, loader):
    """Trainiert eine Epoche und gibt den mittleren Verlust zurück."""
    model.train()
    loss_function = nn.CrossEntropyLoss()
    total_loss = 0.0
    for images, labels in loader:
        optimizer.zero_grad()
        loss = loss_function(model(images), labels)
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(labels)
    return total_loss / len(loader.dataset)


@torch.no_grad()
def evaluate(model, dataset):
    """Gibt die Genauigkeit des Modells auf ``dataset`` zurück (zwischen 0 und 1)."""
    model.eval()
    images, labels = dataset.tensors
    return (model(images).argmax(dim=1) == labels).float().mean().item()


def german_number(value, digits):
    """Formatiert eine Zahl mit Dezimalkomma, z. B. ``0,4123``."""
    return f"{value:.{digits}f}".replace(".", ",")


def train(save_checkpoint, load_checkpoint, epochs, filename="checkpoint.pth"):
    """Trainiert bis ``epochs`` abgeschlossene Epochen erreicht sind.

    Beginnt bei der Epoche, die ``load_checkpoint`` zurückgibt, und speichert
    nach jeder Epoche mit ``save_checkpoint``. Gibt die Zahl der
    abgeschlossenen Epochen zurück.
    """
    torch.manual_seed(0)
    train_data, test_data = load_data()
    model = DigitsCNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    loader = DataLoader(train_data, batch_size=BATCH_SIZE, shuffle=True)

    start_epoch = load_checkpoint(model, optimizer, filename)
    if start_epoch >= epochs:
        print(f"Das Training ist bereits abgeschlossen: {start_epoch} von {epochs} Epochen.")
        return start_epoch
    if start_epoch > 0:
        print(f"Setze das Training nach {start_epoch} abgeschlossenen {'Epoche' if start_epoch == 1 else 'Epochen'} fort.")

    for epoch in range(start_epoch, epochs):
        started = time.perf_counter()
        loss = train_one_epoch(model, optimizer, loader)
        accuracy = evaluate(model, test_data)
        save_checkpoint(model, optimizer, epoch + 1, filename)
        seconds = time.perf_counter() - started
        print(
            f"Epoche {epoch + 1}/{epochs}: Verlust {german_number(loss, 4)}, "
            f"Genauigkeit {german_number(100 * accuracy, 1)} %, {german_number(seconds, 2)} s"
        )
    return epochs
