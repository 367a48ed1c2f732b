"""Große Checkpoints laden: üblich, mit ``mmap=True`` und mit einem Modell auf dem ``meta``-Gerät.

Jede Variante läuft in einem eigenen, frischen Prozess; gemessen wird, wie viel Arbeitsspeicher
(RSS) der Prozess beim Laden zusätzlich belegt, als Vielfaches der Dateigröße.
"""

import os
import subprocess
import sys
import tempfile

import torch
from torch import nn

WIDTH, LAYERS = 2048, 6  # etwa 25 Mio. Parameter, 100 MB


def build():
    return nn.Sequential(*(nn.Linear(WIDTH, WIDTH) for _ in range(LAYERS)))


def memory():
    """(RSS jetzt, höchster RSS bisher, davon anonym, davon Seiten von Dateien) in Bytes, aus /proc."""
    fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
    kilobytes = {name: int(fields[name].split()[0]) * 1024 for name in ("VmRSS", "VmHWM", "RssAnon", "RssFile")}
    return kilobytes["VmRSS"], kilobytes["VmHWM"], kilobytes["RssAnon"], kilobytes["RssFile"]


def load(variant, path):
    """Lädt den Checkpoint wie ``variant``; gibt den zusätzlichen Speicher zurück (Spitze, anonym, Datei)."""
    start_rss, _, start_anon, start_file = memory()
    if variant == "üblich":
        model = build()  # initialisiert alle Gewichte zufällig ...
        state = torch.load(path, weights_only=True)  # ... und liest die Datei ganz ein
        model.load_state_dict(state)  # kopiert in die Gewichte des Modells
        del state
    else:
        with torch.device("meta"):
            model = build()  # nur Formen und dtypes, kein Speicher, keine Initialisierung
        state = torch.load(path, weights_only=True, mmap=True)  # liest noch nichts
        model.load_state_dict(state, assign=True)  # die Tensoren aus der Datei werden die Gewichte
        if variant == "meta + mmap, danach ein Vorwärtsschritt":
            model(torch.zeros(1, WIDTH))  # erst jetzt liest das Betriebssystem die Seiten der Datei
    _, peak, anon, file = memory()
    return peak - start_rss, anon - start_anon, file - start_file


VARIANTS = ["üblich", "meta + mmap", "meta + mmap, danach ein Vorwärtsschritt"]

if len(sys.argv) == 3:  # ein einzelner Messlauf in einem frischen Prozess
    print(*load(sys.argv[1], sys.argv[2]))
    sys.exit()

torch.manual_seed(0)
with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "gewichte.pt")
    torch.save(build().state_dict(), path)
    size = os.path.getsize(path)
    print(f"Dateigröße: {size / 1e6:.0f} MB. Zusätzlicher Arbeitsspeicher, als Vielfaches der Dateigröße:")
    print(f"{'':42}{'Spitze':>8}{'anonym':>9}{'Datei':>8}")
    for variant in VARIANTS:
        result = subprocess.run([sys.executable, __file__, variant, path], capture_output=True, text=True, check=True)
        peak, anon, file = (int(number) / size for number in result.stdout.split())
        print(f"{variant:42}{peak:8.2f}{anon:9.2f}{file:8.2f}".replace(".", ","))

# Der Optimierer gehört zu den Parameterobjekten. assign=True ersetzt sie durch neue Objekte:
with torch.device("meta"):
    model = nn.Linear(4, 4)
too_early = torch.optim.SGD(model.parameters(), lr=0.1)
model.load_state_dict(nn.Linear(4, 4).state_dict(), assign=True)
after = torch.optim.SGD(model.parameters(), lr=0.1)
for optimizer, label in ((too_early, "vor load_state_dict(assign=True)"), (after, "danach")):
    before = model.weight.detach().clone()
    optimizer.zero_grad()
    model(torch.ones(1, 4)).sum().backward()
    optimizer.step()
    print(f"Optimierer erzeugt {label}: Gewichte geändert: {not torch.equal(before, model.weight)}")

# mmap=True geht nur mit dem Zip-Format, das torch.save seit Version 1.6 schreibt.
with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "alt.pt")
    torch.save(model.state_dict(), path, _use_new_zipfile_serialization=False)
    try:
        torch.load(path, weights_only=True, mmap=True)
    except RuntimeError as error:
        print("altes Format mit mmap=True:", type(error).__name__, str(error).replace(path, "alt.pt"))
