"""The wall around a submission: bubblewrap, or – where it is missing – a plain subprocess.

The sandboxed process sees a read-only system and Python environment, the staged grader code
and submission (read-only), one scratch folder in which only the probes' own folders are
writable, and a private /tmp in memory; no network, its own PID namespace, no course repository,
no reference solution, no other submission, no home directory.
"""

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

# Folders of the system that a Python process with torch needs, bound read-only if present.
SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc")
SANDBOX_VARIABLE = "GRADER_SANDBOX"  # "aus": grade without bubblewrap
INSTALL_HINT = "Installieren Sie bubblewrap (Debian/Ubuntu: sudo apt-get install bubblewrap)."
# A uid of its own for each lane (root only): fork bombs and signals stay within one lane.
FIRST_SANDBOX_UID = 1_000_000
TMP_BYTES = 256 * 1024**2
SHM_BYTES = 64 * 1024**2


@functools.cache
def bubblewrap():
    """The path of a working ``bwrap``, or None (missing, or user namespaces not allowed)."""
    path = shutil.which("bwrap")
    if path is None:
        return None
    probe = subprocess.run(
        [path, *system_binds(), "--unshare-pid", *([] if os.geteuid() == 0 else ["--unshare-user"]), "true"],
        capture_output=True, timeout=30,
    )
    return path if probe.returncode == 0 else None


def system_binds():
    arguments = []
    for folder in SYSTEM_FOLDERS:
        if os.path.islink(folder):
            arguments += ["--symlink", os.readlink(folder), folder]
        elif os.path.isdir(folder):
            arguments += ["--ro-bind", folder, folder]
    return arguments


def parents(path):
    """Create the parent folders of ``path`` inside the sandbox, world-readable."""
    arguments = []
    for parent in reversed(Path(path).parents):
        if str(parent) != "/":
            arguments += ["--perms", "0755", "--dir", str(parent)]
    return arguments


def python_folders():
    """The Python installation and the virtual environment the grader runs in."""
    folders = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), Path(sys.prefix)}
    return sorted(folder for folder in folders if not str(folder).startswith(SYSTEM_FOLDERS))


def sandbox_uid():
    """Root grades as an unprivileged uid of its own; everyone else stays who they are."""
    return FIRST_SANDBOX_UID + os.getpid() if os.geteuid() == 0 else None


def command(argv, stage, scratch, environment, uid):
    """The bwrap command line that runs ``argv`` with ``stage`` read-only and ``scratch`` writable."""
    # A /tmp of its own in memory (torch needs a writable temporary folder at import); the worker
    # empties it between two submissions. It comes first: folders below /tmp are bound on top.
    # /dev/shm writable for everyone: multiprocessing's queues and locks (torchrun's launcher) need it.
    arguments = [bubblewrap(), *system_binds(), "--proc", "/proc", "--dev", "/dev",
                 "--perms", "1777", "--size", str(SHM_BYTES), "--tmpfs", "/dev/shm",
                 "--perms", "1777", "--size", str(TMP_BYTES), "--tmpfs", "/tmp"]
    for folder in python_folders():
        arguments += [*parents(folder), "--ro-bind", str(folder), str(folder)]
    for folder, mode in ((stage, "--ro-bind"), (scratch, "--bind")):
        arguments += [*parents(folder), mode, str(folder), str(folder)]
    arguments += ["--chdir", str(scratch), "--clearenv"]
    for name, value in environment.items():
        arguments += ["--setenv", name, value]
    arguments += [
        "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
        "--die-with-parent", "--new-session",
    ]
    if uid is None:
        arguments += ["--unshare-user"]
    else:  # the worker drops to ``uid`` itself; no other capability survives
        arguments += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    return [*arguments, *argv]
