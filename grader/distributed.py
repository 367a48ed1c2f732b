"""One rank of the distributed grading runs (lesson 5), started by torchrun:

    torchrun --standalone --nproc-per-node=2 -m grader.distributed MODE FOLDER [SUBMISSION]

MODE "basis" trains without any submission (the trusted side's uninterrupted run); "training"
trains with the submission's saves and dies while a background save is in flight; "fortsetzen"
loads with the submission's ``load_latest`` in fresh processes and trains on. Each rank writes
its records after every phase into FOLDER as ``rang-<r>-<phase>.pt`` (plain tensors and
numbers), before a call into the submission the phase file ``wo-rang-<r>.txt`` and on a failure
``fehler-rang-<r>-<phase>.json`` (phase "lauf": the rank gave up). The model is sharded with FSDP2 ``fully_shard`` on the gloo backend.
"""

import datetime
import importlib.util
import json
import os
import shutil
import sys
import threading
from concurrent.futures import Future
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

STEPS = 10
SYNC_AT = 3  # save_checkpoint after this many steps
ASYNC_AT = (6, 7)  # save_checkpoint_async after these
CRASH_AT = 8  # the background save in flight when the training dies
FULL_AT = (SYNC_AT, 7)  # the basis records the full state after these steps
WAIT_DELAY = 1.5  # the first background save's future reports completion this much later than the save ends
COLLECTIVE_TIMEOUT = datetime.timedelta(seconds=60)
WRITE_TIMEOUT = 60.0
CRASH_EXIT = 75  # how both ranks of the training end: abruptly, on purpose
# The folders of the resume run, prepared by the probe from the training's folder.
CLEAN, CLUTTERED, EMPTY, MISSING = "nur-schritt-3", "mit-resten", "leer", "fehlt"
INPUT_SIZE, CLASSES = 12, 3


def build(seed, max_lr, shard=True):
    """Model, AdamW and OneCycleLR; the model sharded with ``fully_shard`` unless ``shard=False``."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(INPUT_SIZE, 32), nn.ReLU(), nn.Dropout(0.25), nn.Linear(32, 32), nn.ReLU(),
                          nn.Linear(32, CLASSES))
    if shard:
        from torch.distributed.fsdp import fully_shard

        for layer in (model[0], model[3]):
            fully_shard(layer)
        fully_shard(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=max_lr / 25, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=STEPS)
    return model, optimizer, scheduler


def fresh(shard=True):
    """Objects to load into: other weights, another learning rate, an empty optimizer state."""
    return build(seed=1, max_lr=0.2, shard=shard)


def train_step(model, optimizer, scheduler, step, rank):
    """Step ``step + 1``: the data depends only on step and rank, the dropout on the rank's generator."""
    generator = torch.Generator().manual_seed(10_000 * step + rank)
    inputs = torch.randn(16, INPUT_SIZE, generator=generator)
    targets = torch.randint(0, CLASSES, (16,), generator=generator)
    optimizer.zero_grad()
    loss = F.cross_entropy(model(inputs), targets)
    loss.backward()
    optimizer.step()
    lr = optimizer.param_groups[0]["lr"]
    scheduler.step()
    return loss.detach().clone(), lr


def full_state(model, optimizer):
    """Model and optimizer as full tensors with parameter names (a collective; the values on rank 0)."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_state_dict

    shard = dist.is_initialized()
    options = StateDictOptions(full_state_dict=shard, cpu_offload=shard)
    model_state, optimizer_state = get_state_dict(model, optimizer, options=options)
    return {"model": clone(model_state), "optimizer": clone(optimizer_state)}


def clone(value):
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, dict):
        return {key: clone(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [clone(item) for item in value]
    return value


def plain(value, depth=0):
    """What a returned value was, in types ``torch.load(weights_only=True)`` accepts."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if depth < 4 and isinstance(value, dict):
        return {str(key): plain(item, depth + 1) for key, item in value.items()}
    if depth < 4 and isinstance(value, (list, tuple)):
        return [plain(item, depth + 1) for item in value]
    return f"<{type(value).__name__}>"


class Rank:
    def __init__(self, folder):
        self.folder = Path(folder)
        self.rank = dist.get_rank()

    def where(self, text):
        (self.folder / f"wo-rang-{self.rank}.txt").write_text(text, encoding="utf-8")

    def record(self, phase, values):
        torch.save(values, self.folder / f"rang-{self.rank}-{phase}.pt")

    def fail(self, error, phase="lauf"):
        """Note where (the phase file's text) and how this rank failed: ``fehler-rang-<r>-<phase>.json``.

        DCP's CheckpointException (a BaseException) names only the ranks; the first rank's own
        exception says what went wrong.
        """
        failures = getattr(error, "failures", None)
        if isinstance(failures, dict) and failures:
            first = failures[min(failures)]
            error = first[0] if isinstance(first, tuple) and first and isinstance(first[0], BaseException) else error
        where = self.folder / f"wo-rang-{self.rank}.txt"
        message = str(error).strip().splitlines()
        text = {"where": where.read_text(encoding="utf-8") if where.exists() else "", "type": type(error).__name__,
                "message": message[0][:1000] if message else ""}
        (self.folder / f"fehler-rang-{self.rank}-{phase}.json").write_text(json.dumps(text), encoding="utf-8")


def import_submission(path):
    spec = importlib.util.spec_from_file_location("abgabe_verteilt", path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(Path(path).parent))
    spec.loader.exec_module(module)
    return module


def basis(me, folder):
    """The uninterrupted run, without any submission."""
    model, optimizer, scheduler = build(seed=0, max_lr=0.05)
    torch.manual_seed(100 + me.rank)
    records = {"losses": [], "lrs": [], "rng": {}, "scheduler": {}, "full": {}}
    for step in range(STEPS):
        loss, lr = train_step(model, optimizer, scheduler, step, me.rank)
        records["losses"].append(loss)
        records["lrs"].append(lr)
        done = step + 1
        if done in FULL_AT:
            records["rng"][done] = torch.get_rng_state()
            records["scheduler"][done] = clone(scheduler.state_dict())
            records["full"][done] = full_state(model, optimizer)
    records["full"][STEPS] = full_state(model, optimizer)
    me.record("basis", records)


def watch_background_saves(records, group):
    """Replace ``dcp.async_save``: note whether a save was still in flight at each call. The future
    of the first reports completion ``WAIT_DELAY`` seconds late, so that the next call, one training
    step later, is caught if it did not wait.
    A call that did not wait is noted, then held until the previous save has really ended: two
    saves at once on one process group would make the rest of the run a matter of timing."""
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint import state_dict_saver

    original = state_dict_saver.async_save
    futures, real = [], []

    def watched(*args, **kwargs):
        own_group = kwargs.get("process_group") is group
        records["calls"].append({"step": records["step"], "in_flight": sum(not f.done() for f in futures),
                                 "own_group": own_group})
        kwargs["process_group"] = group
        for future in real:
            future.exception()  # waits; an error belongs to the call that started that save
        future = original(*args, **kwargs)
        delay = WAIT_DELAY if not futures else 0.0
        late = Future()

        def report(finished):
            def complete():
                error = finished.exception()
                late.set_exception(error) if error else late.set_result(finished.result())
            timer = threading.Timer(delay, complete)
            timer.daemon = True
            timer.start()

        future.add_done_callback(report)
        futures.append(late)
        real.append(future)
        return late

    dcp.async_save = state_dict_saver.async_save = watched
    return futures, real


def die_during_next_save(armed, written):
    """Once ``armed`` is set, the next save writes its data and then never finishes (no ``.metadata``);
    ``written`` is set when its data is on disk. A save that began writing before stays untouched."""
    from torch.distributed.checkpoint import filesystem

    writer = filesystem._FileSystemWriter
    write_data, finish = writer.write_data, writer.finish

    def watched_write(self, plan, planner):
        doomed = self._grader_doomed = armed.is_set()
        result = write_data(self, plan, planner)
        if doomed:
            written.set()
        return result

    def watched_finish(self, metadata, results):
        if getattr(self, "_grader_doomed", False):
            threading.Event().wait()
        return finish(self, metadata, results)

    writer.write_data, writer.finish = watched_write, watched_finish


def training(me, folder, module, checkpoints):
    """The training with the submission's saves; ends abruptly while the save after CRASH_AT is in flight."""
    records = {"losses": [], "lrs": [], "calls": [], "step": 0, "returned": {}}
    group = dist.new_group(backend="gloo", timeout=COLLECTIVE_TIMEOUT)
    farewell = dist.new_group(backend="gloo", timeout=COLLECTIVE_TIMEOUT)
    futures, real = watch_background_saves(records, group)
    armed, written = threading.Event(), threading.Event()
    die_during_next_save(armed, written)
    model, optimizer, scheduler = build(seed=0, max_lr=0.05)
    torch.manual_seed(100 + me.rank)
    me.where("TrainingState(model, optimizer, scheduler)")
    state = module.TrainingState(model, optimizer, scheduler)
    previous = None
    for step in range(CRASH_AT):
        me.where(f"Trainingsschritt {step + 1} (vor dem Speichern)")
        loss, lr = train_step(model, optimizer, scheduler, step, me.rank)
        records["losses"].append(loss)
        records["lrs"].append(lr)
        done = records["step"] = step + 1
        state.step = done
        me.record("training", records)
        if done == SYNC_AT:
            me.where(f"save_checkpoint nach Schritt {done}")
            module.save_checkpoint(checkpoints, state)
        if done in ASYNC_AT:
            me.where(f"save_checkpoint_async nach Schritt {done}")
            previous = module.save_checkpoint_async(checkpoints, state, previous, group)
            records["returned"][done] = any(previous is future for future in futures)
    me.where(f"save_checkpoint_async nach Schritt {CRASH_AT} (das Training bricht währenddessen ab)")
    for future in real:  # the crash hits the next save only, never one that is still on its way
        future.exception()
    armed.set()
    crash = threading.Thread(target=module.save_checkpoint_async, args=(checkpoints, state, previous, group), daemon=True)
    crash.start()
    records["crash_written"] = written.wait(WRITE_TIMEOUT)
    records["calls_before_crash"] = list(records["calls"])
    me.record("training", records)
    me.where("Absturz während der Speicherung")
    dist.barrier(group=farewell)  # both ranks have written their records
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(CRASH_EXIT)  # the process dies with the save in flight


def load_into_fresh(me, module, folder, phase):
    """A fresh TrainingState (other weights, other lr, another generator state), then ``load_latest``."""
    model, optimizer, scheduler = fresh()
    torch.manual_seed(999 + me.rank)
    me.where(f"TrainingState(...) vor load_latest ({phase})")
    state = module.TrainingState(model, optimizer, scheduler)
    me.where(f"load_latest({Path(folder).name!r}, state)")
    returned = module.load_latest(folder, state)
    me.where(f"nach load_latest ({phase})")
    return state, (model, optimizer, scheduler), returned


def resume_and_train(me, folder, module, checkpoints):
    """Load the synchronous save into fresh objects, then train to the end (scheduler and generator
    set as they should be: this part grades model and optimizer alone)."""
    given = torch.load(Path(folder) / "basis.pt", weights_only=True)
    state, (model, optimizer, scheduler), returned = load_into_fresh(me, module, checkpoints / CLEAN, "laden")
    records = {"returned": plain(returned), "step": plain(getattr(state, "step", None)),
               "rng": torch.get_rng_state(), "scheduler": clone(scheduler.state_dict())}
    records["full"] = full_state(model, optimizer)
    scheduler.load_state_dict(given["scheduler"])
    torch.set_rng_state(given["rng"][me.rank])
    records["losses"], records["lrs"] = [], []
    for step in range(SYNC_AT, STEPS):
        loss, lr = train_step(model, optimizer, scheduler, step, me.rank)
        records["losses"].append(loss)
        records["lrs"].append(lr)
    records["final"] = full_state(model, optimizer)
    me.record("laden", records)


def find_newest(me, folder, module, checkpoints):
    """``load_latest`` beside an unfinished save and other files, in an empty and a missing folder."""
    state, _, returned = load_into_fresh(me, module, checkpoints / CLUTTERED, "neuester")
    records = {"returned": plain(returned), "step": plain(getattr(state, "step", None))}
    for name in (EMPTY, MISSING):
        before = full_state(*fresh()[:2])
        state, (model, optimizer, _), returned = load_into_fresh(me, module, checkpoints / name, name)
        records[name] = {"returned": plain(returned), "step": plain(getattr(state, "step", None)),
                         "before": before, "after": full_state(model, optimizer)}
    me.record("neuester", records)


def after_crash(me, folder, module, checkpoints):
    """``load_latest`` on the folder the training left: its last save never finished."""
    state, (model, optimizer, _), returned = load_into_fresh(me, module, checkpoints, "absturz")
    me.record("absturz", {"returned": plain(returned), "step": plain(getattr(state, "step", None)),
                          "full": full_state(model, optimizer)})


RESUME_PHASES = {"laden": resume_and_train, "neuester": find_newest, "absturz": after_crash}


def prepare_resume(checkpoints):
    """After the training: the folders the resume run loads from, made from the training's folder.

    ``nur-schritt-3`` holds a copy of the synchronous save; ``mit-resten`` the same copy beside
    an unfinished save of a later step (data files without ``.metadata``), a file named like a
    checkpoint and a note; ``leer`` is empty; ``fehlt`` does not exist.
    """
    source = checkpoints / f"schritt-{SYNC_AT:06d}"
    clean, cluttered = checkpoints / CLEAN, checkpoints / CLUTTERED
    for target in (clean, cluttered):
        target.mkdir(parents=True)
        if source.is_dir():
            shutil.copytree(source, target / source.name)
    unfinished = cluttered / "schritt-000009"
    unfinished.mkdir()
    for data in sorted(source.glob("*.distcp")):
        shutil.copyfile(data, unfinished / data.name)
    (cluttered / "schritt-000011").write_text("kein Checkpoint\n", encoding="utf-8")
    (cluttered / "notizen.txt").write_text("Lernrate 0.05\n", encoding="utf-8")
    (checkpoints / EMPTY).mkdir()


def convert(checkpoints, output):
    """torch's ``dcp_to_torch_save`` turns the synchronous save into one file (``output``)."""
    from torch.distributed.checkpoint.format_utils import dcp_to_torch_save

    dcp_to_torch_save(checkpoints / f"schritt-{SYNC_AT:06d}", output)


def single_process(module, checkpoints):
    """Without a process group: the submission loads the two ranks' checkpoint into an unsharded model."""
    model, optimizer, scheduler = fresh(shard=False)
    state = module.TrainingState(model, optimizer, scheduler)
    returned = module.load_latest(checkpoints / CLEAN, state)
    return {"returned": plain(returned), "step": plain(getattr(state, "step", None)),
            "full": full_state(model, optimizer)}


def main(argv):
    mode, folder = argv[0], Path(argv[1])
    dist.init_process_group("gloo", timeout=COLLECTIVE_TIMEOUT)
    torch.set_num_threads(1)
    me = Rank(folder)
    try:
        if mode == "basis":
            basis(me, folder)
        else:
            me.where("Import der Abgabe")
            module = import_submission(argv[2])
            if mode == "training":
                training(me, folder, module, folder / "checkpoints")
            for phase, run in RESUME_PHASES.items() if mode == "fortsetzen" else ():
                try:
                    run(me, folder, module, folder / "checkpoints")
                except (KeyboardInterrupt, SystemExit):
                    raise
                except BaseException as error:  # also DCP's CheckpointException; the next phase starts afresh
                    me.fail(error, phase)
                    dist.barrier()
        me.where("fertig")
        dist.barrier()
    except BaseException as error:
        me.fail(error)
        sys.stderr.flush()
        os._exit(1)
    dist.destroy_process_group()
    return 0


if __name__ == "__main__":  # a rank of the real torchrun (the basis run)
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # Without interpreter finalization: there gloo's threads at times still hold work objects of FSDP
    # and abort the finished process ("terminate called without an active exception", SIGABRT).
    os._exit(code)
