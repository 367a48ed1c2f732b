"""Die Messungen der Lektion „Große Modelle und verteiltes Training“: Speichern und Laden im Vergleich.

Ein Modell mit rund 100 Mio. Parametern und dem Zustand von AdamW (zusammen etwa 1,2 GB) wird auf
mehrere Arten gespeichert und geladen, alles in einem Lauf nebeneinander:

* in einem Prozess: rohes Schreiben derselben Bytes mit NumPy (``tofile`` und ``fsync``) als
  Untergrenze, ``torch.save``, safetensors; Laden mit ``numpy.fromfile``, ``torch.load``,
  ``torch.load(mmap=True)`` und safetensors;
* mit zwei Rängen (torchrun, FSDP2): ``dcp.save`` und ``dcp.load``, Einsammeln auf Rang 0 mit
  anschließendem ``torch.save``, ``dcp.async_save`` und ein nachgestelltes Training mit einer
  Speicherung in der Mitte (ohne, mit ``dcp.save``, mit ``dcp.async_save``); jeder seiner Schritte
  rechnet eine feste Menge Matrixprodukte.

Jedes Schreiben endet mit ``fsync``: Die Daten sind danach auf der Platte. Gelesen wird danach aus
dem Seitencache des Betriebssystems (die Dateien wurden gerade geschrieben), und jede Art des
Ladens bildet zum Schluss die Summe über alle Tensoren, damit wirklich jedes Byte gelesen ist. Die
Zeiten des Ladens zeigen also, was das Format kostet, nicht die Platte. Die Sphinx-Konfiguration ruft :func:`build` auf,
wenn sich diese Datei geändert hat; das Ergebnis sind eine Tabelle und Sätze mit Verhältnissen
(``verteilt_messung.inc``) und die Rohdaten (``verteilt_messung.json``). Von Hand:
``python -m course.distributed_benchmark ZIELORDNER``.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WIDTH, LAYERS = 4096, 6  # 6 × (4096 × 4096 + 4096) ≈ 100,7 Mio. Parameter
REPETITIONS = 3  # jede Messung dreimal, abwechselnd; es zählt die kürzeste Zeit
TRAINING_REPETITIONS = 2  # das nachgestellte Training (je Variante etwa 5 bis 10 s) zweimal
TRAINING_STEPS = 6  # je Variante des nachgestellten Trainings; gespeichert wird nach dem zweiten Schritt
PRODUCTS_PER_STEP = 12  # Matrixprodukte 1024 × 1024 je Schritt des nachgestellten Trainings
RESULTS = "verteilt_messung.json"
NUMBERS = "verteilt_messung.inc"


def build_training(shard):
    import torch
    from torch import nn
    from torch.distributed.fsdp import fully_shard

    torch.manual_seed(0)
    model = nn.Sequential(*(nn.Linear(WIDTH, WIDTH) for _ in range(LAYERS)))
    if shard:
        for layer in model:
            fully_shard(layer)
        fully_shard(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    return model, optimizer


def optimizer_step(model, optimizer):
    """Ein Schritt von AdamW (Gradient = Gewichte): legt exp_avg und exp_avg_sq an, ohne Vorwärtsrechnung."""
    for parameter in model.parameters():
        parameter.grad = parameter.detach().clone()
    optimizer.step()
    optimizer.zero_grad()


def fsync_file(path):
    with open(path, "rb+") as file:
        os.fsync(file.fileno())


def checksum(value):
    """Summe über alle Tensoren (auch verschachtelt): liest jedes Byte einmal."""
    import torch

    if isinstance(value, dict):
        return sum(checksum(item) for item in value.values())
    if isinstance(value, torch.Tensor) and value.is_floating_point():
        return float(value.to_local().sum() if hasattr(value, "to_local") else value.sum())
    if hasattr(value, "sum"):  # NumPy
        return float(value.sum())
    return 0.0


def timed(action):
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def flat_tensors(model, optimizer):
    """Alle Tensoren des Zustands (Gewichte, exp_avg, exp_avg_sq) in einem flachen Dictionary."""
    tensors = {f"model.{name}": value for name, value in model.state_dict().items()}
    for index, parameter in enumerate(model.parameters()):
        for key in ("exp_avg", "exp_avg_sq"):
            tensors[f"optimizer.{index}.{key}"] = optimizer.state[parameter][key]
    return tensors


def single_process(folder):
    """Die Messungen in einem Prozess; gibt Sekunden je Vorgang und die Größe in Bytes zurück."""
    import numpy as np
    import torch
    from safetensors.torch import load_file, save_file

    model, optimizer = build_training(shard=False)
    optimizer_step(model, optimizer)
    tensors = flat_tensors(model, optimizer)
    checkpoint = {"model": model.state_dict(), "optimizer": optimizer.state_dict()}
    paths = {name: os.path.join(folder, name) for name in ("roh.bin", "torch.pt", "gewichte.safetensors")}
    results = {"bytes": sum(tensor.numel() * tensor.element_size() for tensor in tensors.values()),
               "parameters": sum(parameter.numel() for parameter in model.parameters()),
               "cpus": os.cpu_count(), "load": os.getloadavg()[0]}

    def raw_write():
        with open(paths["roh.bin"], "wb") as file:
            for tensor in tensors.values():
                tensor.numpy().tofile(file)
            file.flush()
            os.fsync(file.fileno())

    def torch_write():
        torch.save(checkpoint, paths["torch.pt"])
        fsync_file(paths["torch.pt"])

    def safetensors_write():
        save_file(tensors, paths["gewichte.safetensors"])
        fsync_file(paths["gewichte.safetensors"])

    loads = (
        ("mmap_open", lambda: torch.load(paths["torch.pt"], weights_only=True, mmap=True)),
        ("raw_load", lambda: checksum(np.fromfile(paths["roh.bin"], dtype=np.float32))),
        ("torch_load", lambda: checksum(torch.load(paths["torch.pt"], weights_only=True))),
        ("mmap_load_all", lambda: checksum(torch.load(paths["torch.pt"], weights_only=True, mmap=True))),
        ("safetensors_load", lambda: checksum(load_file(paths["gewichte.safetensors"]))),
    )
    for _ in range(REPETITIONS):  # abwechselnd, damit eine Störung von außen nicht nur eine Art trifft
        for name, action in (("raw_save", raw_write), ("torch_save", torch_write),
                             ("safetensors_save", safetensors_write), *loads):
            seconds, _ = timed(action)
            results[name] = min(seconds, results.get(name, seconds))
    results["torch_size"] = os.path.getsize(paths["torch.pt"])
    return results


def distributed(folder):
    """Die Messungen mit torchrun; nur Rang 0 gibt Ergebnisse zurück."""
    import torch
    import torch.distributed as dist
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_state_dict

    dist.init_process_group("gloo")
    rank = dist.get_rank()
    results = {"ranks": dist.get_world_size()}

    def everyone(action):
        """Zeit, bis alle Ränge fertig sind."""
        dist.barrier()
        started = time.perf_counter()
        value = action()
        dist.barrier()
        return time.perf_counter() - started, value

    model, optimizer = build_training(shard=True)
    optimizer_step(model, optimizer)
    save_group = dist.new_group(backend="gloo")

    def state():
        model_state, optimizer_state = get_state_dict(model, optimizer)
        return {"model": model_state, "optimizer": optimizer_state}

    def dcp_save(repetition):
        dcp.save(state(), checkpoint_id=os.path.join(folder, f"dcp-{repetition}"))

    def dcp_load(repetition):
        template = state()
        dcp.load(template, checkpoint_id=os.path.join(folder, f"dcp-{repetition}"))
        return checksum(template)

    def async_save(repetition):
        started = time.perf_counter()
        future = dcp.async_save(state(), checkpoint_id=os.path.join(folder, f"async-{repetition}"),
                                process_group=save_group)
        returned = time.perf_counter() - started
        future.result()
        return returned

    for repetition in range(REPETITIONS):
        for name, action in (("dcp_save", dcp_save), ("dcp_load", dcp_load), ("async_done", async_save)):
            seconds, value = everyone(lambda: action(repetition))
            if seconds < results.get(name, float("inf")):
                results[name] = seconds
                if name == "async_done":
                    results["async_blocked"] = value
        results["dcp_size"] = sum(entry.stat().st_size for entry in Path(folder, f"dcp-{repetition}").iterdir())
        dist.barrier()
        if rank == 0:  # Platz auf der Platte für die nächste Runde
            for name in (f"dcp-{repetition}", f"async-{repetition}"):
                shutil.rmtree(os.path.join(folder, name))

    full = StateDictOptions(full_state_dict=True, cpu_offload=True)

    def gather_and_save():
        gathered_at = time.perf_counter()
        model_state, optimizer_state = get_state_dict(model, optimizer, options=full)
        gathered = time.perf_counter() - gathered_at
        if rank == 0:
            path = os.path.join(folder, "gesammelt.pt")
            torch.save({"model": model_state, "optimizer": optimizer_state}, path)
            fsync_file(path)
        return gathered

    results["gather_save"], results["gather_only"] = everyone(gather_and_save)

    left, right = torch.randn(1024, 1024), torch.randn(1024, 1024)

    def training(mode, repetition):
        pending, path = None, os.path.join(folder, f"training-{mode}-{repetition}")  # nie in einen alten Ordner
        for step in range(1, TRAINING_STEPS + 1):
            for _ in range(PRODUCTS_PER_STEP):  # die Rechenarbeit eines Schritts
                left @ right
            with torch.no_grad():  # und die Gewichte ändern sich
                for parameter in model.parameters():
                    parameter.to_local().mul_(0.999)
            if step == 2 and mode == "sync":
                dcp.save(state(), checkpoint_id=path)
            elif step == 2 and mode == "async":
                pending = dcp.async_save(state(), checkpoint_id=path, process_group=save_group)
        if pending is not None:
            pending.result()

    for repetition in range(TRAINING_REPETITIONS):
        for mode in ("none", "sync", "async"):
            seconds, _ = everyone(lambda: training(mode, repetition))
            results[f"training_{mode}"] = min(seconds, results.get(f"training_{mode}", seconds))
    dist.destroy_process_group()
    return results if rank == 0 else None


def german(value, digits=1):
    return f"{value:.{digits}f}".replace(".", ",")


def compared(ratio):
    """``das 2,3-Fache`` oder ``nur 40 %`` – wie viel von einer anderen Zeit."""
    return f"das {german(ratio, 1)}-Fache" if ratio >= 1 else f"nur {german(100 * ratio, 0)} %"


def table_and_sentences(results):
    """Die Tabelle (list-table) und die Sätze darunter, nur aus den Messwerten."""
    save_floor, load_floor = results["raw_save"], results["raw_load"]
    size = results["bytes"] / 1e9
    rows = [
        ("Speichern", "rohes Schreiben derselben Bytes (NumPy ``tofile``, ``fsync``)", results["raw_save"], save_floor),
        ("", "``torch.save`` (ein Prozess)", results["torch_save"], save_floor),
        ("", "safetensors ``save_file`` (ein Prozess, flaches Dictionary)", results["safetensors_save"], save_floor),
        ("", f"``dcp.save`` ({results['ranks']} Ränge)", results["dcp_save"], save_floor),
        ("", "auf Rang 0 einsammeln, dann ``torch.save``", results["gather_save"], save_floor),
        ("Laden", "rohes Lesen (NumPy ``fromfile``)", results["raw_load"], load_floor),
        ("", "``torch.load``", results["torch_load"], load_floor),
        ("", "``torch.load(mmap=True)``: nur öffnen", results["mmap_open"], load_floor),
        ("", "``torch.load(mmap=True)``: öffnen und alles lesen", results["mmap_load_all"], load_floor),
        ("", "safetensors ``load_file``", results["safetensors_load"], load_floor),
        ("", f"``dcp.load`` ({results['ranks']} Ränge, an Ort und Stelle)", results["dcp_load"], load_floor),
    ]
    lines = [".. list-table::", "   :header-rows: 1", "   :widths: 14 62 24", "",
             "   * - Vorgang", "     - Art", "     - Zeit, verglichen mit rohem Schreiben oder Lesen"]
    for kind, label, seconds, floor in rows:
        lines += [f"   * - {kind}", f"     - {label}", f"     - {german(seconds / floor, 2)} ×"]
    ranks = results["ranks"]
    sync_cost = results["training_sync"] - results["training_none"]
    async_cost = results["training_async"] - results["training_none"]
    saved = 1 - async_cost / sync_cost if sync_cost > 0 else 0.0
    if saved <= 0:
        verdict = "Im Hintergrund zu speichern, kostete hier also sogar mehr Zeit als ``dcp.save``."
    elif saved < 0.25:
        verdict = (f"Im Hintergrund zu speichern, brachte hier also kaum etwas: Es sparte nur {german(100 * saved, 0)} % "
                   "der Zeit, die das Speichern das Training kostet.")
    else:
        verdict = (f"Im Hintergrund zu speichern, sparte hier also {german(100 * saved, 0)} % der Zeit, die das "
                   "Speichern das Training sonst kostet.")
    sentences = [
        f"Gemessen auf dem Rechner, der diese Seite gebaut hat: {results['cpus']} Kerne, im Mittel der Minute "
        f"vor der Messung {german(results['load'], 1)} laufende Prozesse. Das Modell hat "
        f"{german(results['parameters'] / 1e6, 1)} Millionen Parameter, mit dem Zustand von AdamW sind das "
        f"{german(size, 2)} GB. ``torch.save`` schreibt "
        f"{german(100 * (results['torch_size'] / results['bytes'] - 1), 3)} % mehr Bytes als die rohen Daten, "
        f"``dcp.save`` {german(100 * (results['dcp_size'] / results['bytes'] - 1), 3)} % mehr.",
        f"``torch.save`` braucht {compared(results['torch_save'] / save_floor)} der Zeit des rohen Schreibens, "
        f"safetensors {compared(results['safetensors_save'] / save_floor)}, ``dcp.save`` mit {ranks} Rängen "
        f"{compared(results['dcp_save'] / save_floor)}.",
        f"Erst alles auf Rang 0 einzusammeln und dann mit ``torch.save`` zu schreiben, braucht "
        f"{compared(results['gather_save'] / results['dcp_save'])} der Zeit von ``dcp.save``; "
        f"{german(100 * results['gather_only'] / results['gather_save'], 0)} % davon entfallen auf das Einsammeln.",
        f"``torch.load`` braucht {compared(results['torch_load'] / load_floor)} der Zeit des rohen Lesens. "
        f"``torch.load(mmap=True)`` kehrt schon nach {german(100 * results['mmap_open'] / results['torch_load'], 1)} % "
        "der Zeit von ``torch.load`` zurück, denn es liest erst beim Zugriff.",
        f"``dcp.async_save`` hielt das Training {compared(results['async_blocked'] / results['dcp_save'])} der Zeit "
        "von ``dcp.save`` auf (so lange dauert das Kopieren des Zustands in den Arbeitsspeicher); bis die "
        f"Speicherung fertig war, verging {compared(results['async_done'] / results['dcp_save'])} dieser Zeit.",
        f"In einem nachgestellten Training mit {TRAINING_STEPS} Schritten, die nur rechnen, und einer Speicherung "
        f"nach dem zweiten kostete ``dcp.save`` {german(100 * sync_cost / results['training_none'], 0)} % mehr Zeit "
        f"als das Training ohne Speichern, ``dcp.async_save`` "
        f"{german(100 * async_cost / results['training_none'], 0)} %. " + verdict,
    ]
    return "\n".join(lines) + "\n\n" + "\n".join(f"* {sentence}" for sentence in sentences) + "\n"


def build(target_dir):
    """Misst alles (etwa eine bis zwei Minuten) und schreibt Rohdaten, Tabelle und Sätze nach ``target_dir``."""
    target_dir = Path(target_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory() as folder:
        single = Path(folder, "einzeln.json")
        subprocess.run([sys.executable, "-m", "course.distributed_benchmark", "--teil", "einzeln",
                        "--ordner", folder, "--json", str(single)], check=True, env=environment)
        shutil.rmtree(Path(folder, "einzeln"))  # Platz für den zweiten Teil
        ranks = Path(folder, "verteilt.json")
        subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
                        "-m", "course.distributed_benchmark", "--teil", "verteilt", "--ordner", folder,
                        "--json", str(ranks)], check=True, env=environment)
        results = {**json.loads(single.read_text()), **json.loads(ranks.read_text())}
    (target_dir / RESULTS).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (target_dir / NUMBERS).write_text(table_and_sentences(results), encoding="utf-8")


def main():
    parser = argparse.ArgumentParser(prog="python -m course.distributed_benchmark")
    parser.add_argument("ziel", nargs="?", help="Ordner für Tabelle und Rohdaten (ohne --teil)")
    parser.add_argument("--teil", choices=("einzeln", "verteilt"), help="nur einen Teil messen (intern)")
    parser.add_argument("--ordner", help="Arbeitsordner für die Dateien (intern)")
    parser.add_argument("--json", help="Ergebnis dieses Teils (intern)")
    args = parser.parse_args()
    if args.teil is None:
        build(args.ziel or "source/_generated")
        return
    work = Path(args.ordner) / args.teil
    work.mkdir(exist_ok=True)
    results = single_process(str(work)) if args.teil == "einzeln" else distributed(str(work))
    if results is not None:
        Path(args.json).write_text(json.dumps(results), encoding="utf-8")


if __name__ == "__main__":
    main()
