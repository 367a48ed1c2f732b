"""What a forked child of the worker does with the submission – inside the sandbox.

A probe builds the objects of one scenario, calls one function of the submission and writes an
*observation*: what the call returned or raised, and the state of the objects afterwards (plain
values and tensors, loadable with ``weights_only=True``). It judges nothing: points are decided
on the trusted side, which compares the observation and the files in the probe's folder with
what it computed itself.
"""

import copy
import errno
import importlib.util
import io
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import traceback
import warnings
from pathlib import Path

import numpy as np
import torch

from grader import landlock, scenarios
from grader.text import cap, first_line
from grader.worker import IMPORT_OUTPUT, OBSERVATION, OUTPUT, PHASE, SUBMISSION_VARIABLE
INTERRUPTS = {"KeyboardInterrupt": KeyboardInterrupt, "SystemExit": SystemExit}


WARMED = set()
SAVE = torch.save  # the real one: probes replace torch.save with a watched one


def warm_up(module):
    """Pay every one-time cost of ``module``'s probes before the first one: imports, the first
    optimizer step, save/load, the data. Done once per module, in the worker, before it forks."""
    if module in WARMED:
        return
    WARMED.add(module)
    model, optimizer = scenarios.trained_pair()
    buffer = io.BytesIO()
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, buffer)
    torch.load(io.BytesIO(buffer.getvalue()), weights_only=True)
    for broken in (b"", b"kein Checkpoint", buffer.getvalue()[:100]):
        try:
            torch.load(io.BytesIO(broken), weights_only=True)
        except Exception:
            pass
    copy.deepcopy(model)
    if module == "training_state":
        from course import exact_training  # noqa: F401  (the training loop of the resume probes)

        scenarios.training_in_progress()
        scenarios.peek_draws()
    if module == "robust":
        from course import preemption  # noqa: F401  (the training of the SIGTERM probe)

        model, optimizer = scenarios.fresh_robust_pair()
        torch.save(scenarios.robust_checkpoint(), io.BytesIO())
        copy.deepcopy(optimizer.state_dict())
    if module == "verteilt":
        from torch.distributed.checkpoint import format_utils, state_dict  # noqa: F401
        from torch.distributed.fsdp import fully_shard  # noqa: F401

        from grader import distributed

        distributed.full_state(*distributed.fresh(shard=False)[:2])
    logging.getLogger().handlers.clear()


# --- describing what happened, in plain values -------------------------------------------------


def submission_folder():
    return Path(os.environ[SUBMISSION_VARIABLE]).resolve()


def describe_error(error):
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if Path(frame.filename).resolve().parent == submission_folder()]
    where = f"{Path(frames[-1].filename).name}, Zeile {frames[-1].lineno}: {cap(frames[-1].line or '', 120)}" if frames else ""
    message = str(error.code) if isinstance(error, SystemExit) and error.code is not None else str(error)
    return {"type": type(error).__name__, "message": first_line(message), "where": where,
            "interrupt": isinstance(error, (KeyboardInterrupt, SystemExit)),
            "memory": isinstance(error, MemoryError) or "can't allocate memory" in message}


def describe_value(value):
    try:
        text = repr(value)
    except Exception as error:
        text = f"<repr nicht möglich: {type(error).__name__}>"
    description = {"type": type(value).__name__, "repr": cap(text), "int": value if type(value) is int else None}
    if type(value) is tuple:
        description["items"] = [describe_value(item) for item in value[:4]]
        description["length"] = len(value)
    return description


def invoke(function, *args, **kwargs):
    """Call the submission: ``({"returned": …} or {"raised": …}, value)``."""
    try:
        value = function(*args, **kwargs)
    except BaseException as error:  # KeyboardInterrupt and SystemExit are observations too
        return {"raised": describe_error(error)}, None
    return {"returned": describe_value(value)}, value


def plain(value, depth=0):
    """A copy that ``torch.load(..., weights_only=True)`` accepts; other objects become tags."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if value is None or type(value) in (bool, int, float, str):
        return value
    if depth > 12:
        return {"__objekt__": "…", "repr": "zu tief verschachtelt"}
    if isinstance(value, dict):
        return {key if type(key) in (int, str) else repr(key): plain(item, depth + 1) for key, item in value.items()}
    if type(value) in (list, tuple):
        return [plain(item, depth + 1) for item in value]
    if isinstance(value, np.ndarray):
        return {"__numpy__": value.tolist()}
    if isinstance(value, np.generic):
        return value.item()
    return {"__objekt__": f"{type(value).__module__}.{type(value).__qualname__}", "repr": cap(repr(value), 120)}


def states(model, optimizer):
    observation = {}
    for name, owner in (("model", model), ("optimizer", optimizer)):
        try:
            observation[name] = plain(owner.state_dict())
        except Exception as error:
            observation[name + "_error"] = describe_error(error)
    return observation


def filename_keywords(how, folder, name):
    """The ``filename`` argument in the form a probe tests."""
    return {
        "standard": {},
        "relativ": {"filename": name},
        "absolut": {"filename": str(folder / "ziel" / name)},
        "pathlib": {"filename": Path(name)},
    }[how]


# --- the probes ----------------------------------------------------------------------------------


def content_of(path):
    """What a file written by the submission holds, read without ``weights_only`` (here in the sandbox)."""
    if not path.is_file():
        return {}
    try:
        return {"content": plain(torch.load(path, weights_only=False))}
    except BaseException as error:
        return {"content_error": describe_error(error)}


def probe_save(module, folder, how):
    model, optimizer = scenarios.trained_pair()
    (folder / "ziel").mkdir(exist_ok=True)
    keywords = filename_keywords(how, folder, "mein_stand.pt")
    outcome, _ = invoke(module.save_checkpoint, model, optimizer, scenarios.SAVED_EPOCH, **keywords)
    return {"call": outcome, **content_of(folder / keywords.get("filename", "checkpoint.pth"))}


def probe_load(module, folder, how="relativ", name="stand.pth", step_after=True):
    model, optimizer = scenarios.fresh_pair()
    outcome, _ = invoke(module.load_checkpoint, model, optimizer, **filename_keywords(how, folder, name))
    observation = {"call": outcome, **states(model, optimizer)}
    if step_after:
        try:
            scenarios.training_step(model, optimizer)
            observation["after_step"] = plain(model.state_dict())
        except Exception as error:
            observation["step_error"] = describe_error(error)
    return observation


def probe_save_state(module, folder):
    model, optimizer, scheduler, progress = scenarios.training_in_progress()
    outcome, _ = invoke(module.save_training_state, "zustand.pth", model, optimizer, scheduler, progress)
    return {"call": outcome, **content_of(folder / "zustand.pth")}


class _ResumeFailed(Exception):
    pass


def probe_resume(module, folder, reference="referenz.pt"):
    """Resume from a checkpoint of the reference (with the submission's own RNG states) to the end."""
    from course.exact_training import train_exactly

    given = torch.load(folder / reference, weights_only=True)
    scenarios.set_rng_snapshot(given["rng"])
    outcome, captured = invoke(module.capture_rng_states)
    observation = {"capture": outcome}
    if "raised" in outcome:
        return observation
    torch.save({**given["state"], "rng": captured}, folder / "zustand.pth")
    try:
        torch.load(folder / "zustand.pth", weights_only=True)
    except Exception as error:
        observation["capture_refused"] = describe_error(error)
    resumed, draws = {}, {}

    def resume(*arguments):
        outcome, value = invoke(module.resume_training_state, *arguments)
        resumed.update(outcome)
        if "raised" in outcome:
            raise _ResumeFailed
        draws.update(scenarios.peek_draws())
        return value

    try:
        model, history = train_exactly(lambda *arguments: None, resume, scenarios.EPOCHS, str(folder / "zustand.pth"))
        observation.update(weights=plain(model.state_dict()), learning_rates=history.learning_rates,
                           losses=history.losses)
    except _ResumeFailed:
        pass
    except BaseException as error:
        observation["training_error"] = describe_error(error)
    observation.update(resume=resumed, draws=draws)
    return observation


def probe_resume_file(module, folder, name="zustand.pth"):
    from course.exact_training import build_training

    model, optimizer, scheduler, loader = build_training(epochs=1)
    outcome, _ = invoke(module.resume_training_state, name, model, optimizer, scheduler, loader)
    return {"call": outcome}


# --- lesson 3 ------------------------------------------------------------------------------------


def other_file_system(folder):
    """A writable folder on another mounted file system than ``folder`` (the sandbox's /tmp is one), or None."""
    for candidate in ("/tmp", "/dev/shm"):
        try:
            if os.stat(candidate).st_dev != os.stat(folder).st_dev and os.access(candidate, os.W_OK):
                return Path(tempfile.mkdtemp(prefix="anderes-dateisystem-", dir=candidate))
        except OSError:
            continue
    return None


def probe_atomic_save(module, folder, how="absolut", other_fs=False, pickling=False):
    """``atomic_save`` of a checkpoint to ``ziel/stand.pt``; temporary files go to ``tmp/`` (same file
    system) or, with ``other_fs``, to a folder on another file system."""
    target = folder / "ziel" / "stand.pt"
    target.parent.mkdir(exist_ok=True)
    temporary = other_file_system(folder) if other_fs else folder / "tmp"
    if temporary is None:
        return {"no_other_fs": True}
    temporary.mkdir(exist_ok=True)
    tempfile.tempdir = os.environ["TMPDIR"] = str(temporary)
    obj = scenarios.robust_checkpoint()
    if pickling:
        obj["zusatz"] = scenarios.FailsWhenPickled()
    if how == "dateiname":
        os.chdir(target.parent)
    path = {"absolut": str(target), "relativ": "ziel/stand.pt", "pathlib": target, "dateiname": "stand.pt"}[how]
    outcome, _ = invoke(module.atomic_save, obj, path)
    observation = {"call": outcome}
    if other_fs:
        observation.update(elsewhere=str(temporary), left_elsewhere=sorted(os.listdir(temporary)))
        shutil.rmtree(temporary, ignore_errors=True)  # /dev/shm is shared with the probes beside this one
    return observation


def allowlist():
    return sorted(f"{getattr(item, '__module__', '')}.{getattr(item, '__qualname__', repr(item))}"
                  for item in torch.serialization.get_safe_globals())


def probe_safe_load(module, folder, kind="classifier", name="stand.pt"):
    model, optimizer = scenarios.fresh_robust_pair(kind)
    torch.serialization.add_safe_globals([scenarios.AllowedByTheCaller])
    before = allowlist()
    outcome, value = invoke(module.safe_load, model, optimizer, name)
    after = allowlist()
    return {"call": outcome, "value": plain(value), **states(model, optimizer),
            "allowlist_added": sorted(set(after) - set(before)), "allowlist_removed": sorted(set(before) - set(after))}


def run_forked(argv, folder, output):
    """``course.preemption.main(argv)`` in a forked process of its own, as a fresh start of a script
    would run it (torch is already imported); returns its exit status (negative: killed by a signal)."""
    from course import preemption

    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.chdir(folder)
            redirect_output(folder / output)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            code = preemption.main(argv)
        except SystemExit as error:
            code = error.code if type(error.code) is int else 1
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def probe_preemption(module, folder, sigterm_at):
    """``course.preemption`` with the submission's atomic_save in two processes: SIGTERM, then a resume."""
    runs = {}
    for run, weights, options in (("first", "unterbrochen.pt", ["--sigterm-bei", str(sigterm_at)]),
                                  ("second", "fortgesetzt.pt", [])):
        status = run_forked([str(submission_folder() / "robust.py"), "stand.pt", weights, *options], folder,
                            f"{run}.txt")
        runs[run] = {"status": status, "output": cap((folder / f"{run}.txt").read_text(errors="replace").strip(), 2000)}
        if status != 0:
            break
        if run == "first" and (folder / "stand.pt").is_file():  # the second run overwrites it
            shutil.copyfile(folder / "stand.pt", folder / "nach_sigterm.pt")
    return runs


def probe_manager(module, folder, script):
    """A script of operations with the submission's CheckpointManager (see scenarios.run_manager_script)."""
    position = [0]

    def printed():
        sys.stdout.flush()
        sys.stderr.flush()
        with open(folder / OUTPUT, "rb") as output:
            output.seek(position[0])
            data = output.read()
        position[0] += len(data)
        return cap(data.decode("utf-8", errors="replace").strip(), 4000)

    def call(function):
        outcome, value = invoke(function)
        if "returned" in outcome:
            outcome["value"] = plain(scenarios.as_plain_result(value))
        return outcome, value

    return {"records": scenarios.run_manager_script(module.CheckpointManager, folder, script, call, printed)}


def descendants():
    """The pids of every process below this one."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, queue = [], list(children.get(os.getpid(), []))
    while queue:
        pid = queue.pop()
        found.append(pid)
        queue += children.get(pid, [])
    return found


def kill_descendants():
    """SIGKILL every process below this one (the ranks and whatever they started)."""
    for victim in descendants():
        try:
            os.kill(victim, signal.SIGKILL)
        except OSError:
            pass


def launch(mode, folder, submission, timeout):
    """``grader.distributed`` in MODE on two ranks, started by torchrun's own launcher (the elastic
    agent of ``torch.distributed.run``) with ranks forked from this warmed process – no second
    start of Python and torch. Returns how each rank ended and where it was."""
    import uuid

    from torch.distributed.elastic.multiprocessing import DefaultLogsSpecs, Std
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    from grader import distributed

    config = LaunchConfig(min_nodes=1, max_nodes=1, nproc_per_node=2, run_id=str(uuid.uuid4()), rdzv_backend="c10d",
                          rdzv_endpoint="localhost:0", max_restarts=0, start_method="fork", monitor_interval=0.1,
                          shutdown_timeout=5,
                          logs_specs=DefaultLogsSpecs(log_dir=str(folder / f"protokoll-{mode}"), redirects=Std.ALL))
    fired = threading.Event()

    def expire():
        fired.set()
        kill_descendants()

    watchdog = threading.Timer(timeout, expire)
    watchdog.daemon = True
    watchdog.start()
    exits, launcher_error = {0: 0, 1: 0}, None
    try:
        elastic_launch(config, distributed.main)([mode, str(folder), str(submission)])
    except ChildFailedError as error:  # it lists the ranks that failed; how the others ended is unknown
        exits = {0: None, 1: None, **{failure.local_rank: failure.exitcode for failure in error.failures.values()}}
    except Exception as error:
        launcher_error = describe_error(error)
    finally:
        watchdog.cancel()
    ranks = {}
    for rank in range(2):
        where = folder / f"wo-rang-{rank}.txt"
        errors = {}
        for path in sorted(folder.glob(f"fehler-rang-{rank}-*.json")):
            try:
                error = json.loads(path.read_text(errors="replace"))
                errors[path.stem.rsplit("-", 1)[1]] = {key: cap(str(error.get(key, "")), 500)
                                                       for key in ("where", "type", "message")}
            except (ValueError, AttributeError):
                continue
        ranks[rank] = {"errors": errors, "exit": exits.get(rank),
                       "where": cap(where.read_text(errors="replace"), 500) if where.is_file() else None}
        for stale in (where, *folder.glob(f"fehler-rang-{rank}-*.json")):
            stale.unlink(missing_ok=True)
    return {"timeout": fired.is_set(), "ranks": ranks, "launcher_error": launcher_error, "limit": timeout,
            "complete": (folder / "checkpoints" / f"schritt-{distributed.SYNC_AT:06d}" / ".metadata").is_file()}


def probe_distributed(module, folder, timeout):
    """Lesson 5: the training with the submission's saves under torchrun, the resume in new
    processes, then a single process that loads the two ranks' checkpoint and its conversion."""
    from grader import distributed

    path = submission_folder() / "verteilt.py"
    observation = {"training": launch("training", folder, path, timeout)}
    if not observation["training"]["complete"]:
        return observation
    distributed.prepare_resume(folder / "checkpoints")
    observation["fortsetzen"] = launch("fortsetzen", folder, path, timeout)
    try:
        distributed.convert(folder / "checkpoints", folder / "umgewandelt.pt")
    except Exception as error:
        observation["umwandeln_error"] = describe_error(error)
    outcome, records = invoke(distributed.single_process, module, folder / "checkpoints")
    observation["einzeln"] = outcome if records is None else {}
    if records is not None:
        SAVE(records, folder / "rang-einzeln.pt")
    return observation


PROBES = {
    "save": probe_save,
    "load": probe_load,
    "save_state": probe_save_state,
    "resume": probe_resume,
    "resume_file": probe_resume_file,
    "atomic_save": probe_atomic_save,
    "safe_load": probe_safe_load,
    "preemption": probe_preemption,
    "manager": probe_manager,
    "distributed": probe_distributed,
}


# --- running one probe in the child ------------------------------------------------------------


def watch_loading(interrupt=None):
    """Record every call of ``torch.load``; with ``interrupt``, raise it instead of loading – as if
    Ctrl+C arrived while loading. Returns the list of calls."""
    calls, load = [], torch.load

    def watched_load(*args, **kwargs):
        calls.append(True)
        if interrupt:
            raise INTERRUPTS[interrupt]()
        return load(*args, **kwargs)

    torch.load = torch.serialization.load = watched_load
    return calls


def written_path(f):
    """The absolute path ``torch.save`` writes to: a path, or the file behind a file object ("" if none)."""
    target = f if isinstance(f, (str, os.PathLike)) else getattr(f, "name", None)
    if type(target) is int:  # os.fdopen(descriptor): the name is the descriptor
        try:
            target = os.readlink(f"/proc/self/fd/{target}")
        except OSError:
            return ""
    return os.path.abspath(target) if isinstance(target, (str, os.PathLike)) else ""


def watch_saving(fault=None):
    """Record every call of ``torch.save`` (the path it writes to, if known); with ``fault``, write half
    of the bytes and then fail as a full disk does ("voll") or die as a killed job does ("abbruch").
    Returns the list of calls."""
    calls, save = [], SAVE

    def watched_save(obj, f, *args, **kwargs):
        calls.append(written_path(f))
        if not fault:
            return save(obj, f, *args, **kwargs)
        buffer = io.BytesIO()
        save(obj, buffer, *args, **kwargs)
        half = buffer.getvalue()[: len(buffer.getvalue()) // 2]
        if isinstance(f, (str, os.PathLike)):
            with open(f, "wb") as file:
                file.write(half)
        else:
            f.write(half)
            f.flush()
        if fault == "abbruch":
            os.kill(os.getpid(), signal.SIGKILL)
        raise OSError(errno.ENOSPC, "No space left on device")

    torch.save = torch.serialization.save = watched_save
    return calls


def redirect_output(path):
    sys.stdout.flush()
    sys.stderr.flush()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(descriptor, 1)
    os.dup2(descriptor, 2)
    os.close(descriptor)


def write_phase(folder, phase):
    (folder / PHASE).write_text(phase, encoding="utf-8")


def import_submission(module_name):
    path = submission_folder() / f"{module_name}.py"
    spec = importlib.util.spec_from_file_location(f"abgabe_{module_name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    spec.loader.exec_module(module)
    return module


def run(request):
    """Run the probe of ``request`` in this (forked) process and save its observation."""
    folder = Path(request["folder"])
    # Only its own folder (and /dev/shm, which multiprocessing needs) is writable from here on: the
    # probes running beside it cannot be touched, whatever the submission does.
    landlock.confine_writes([folder, "/dev/shm"], files=[os.devnull])
    arguments = dict(request.get("args", {}))
    calls = watch_loading(arguments.pop("interrupt", None))
    saves = watch_saving(arguments.pop("fault", None))
    os.environ.update(request.get("env", {}))
    os.environ.update({SUBMISSION_VARIABLE: request["submission"], "HOME": str(folder), "TMPDIR": str(folder)})
    tempfile.tempdir = str(folder)  # the worker may have cached /tmp already, another file system in the sandbox
    warnings.filterwarnings("ignore", module="torch")  # torch's own warnings are no message of the student
    handler = logging.StreamHandler(sys.stderr)
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.DEBUG)
    start = folder / "start"
    start.mkdir()
    os.chdir(start)  # whatever the submission does at import happens here
    redirect_output(folder / IMPORT_OUTPUT)
    write_phase(folder, "import")
    try:
        module = import_submission(request["module"])
    except BaseException as error:
        observation = {"import_error": describe_error(error)}
    else:
        os.chdir(folder)
        redirect_output(folder / OUTPUT)
        write_phase(folder, "run")
        observation = PROBES[request["probe"]](module, folder, **arguments)
        observation.update(load_called=bool(calls), save_called=bool(saves), saved_to=saves)
    redirect_output(os.devnull)
    SAVE(observation, folder / OBSERVATION)
    write_phase(folder, "done")
