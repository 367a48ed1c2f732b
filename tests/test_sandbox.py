"""The sandbox against hostile submissions: each one tries to reach past its wall during a batch.

Every attempt runs at import (or in save_checkpoint) of an otherwise untouched stub, next to the
reference as a classmate; none may gain a point, leave a trace outside, or change a neighbour's grade.
"""

import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grader import landlock
from grader.batch import grade_all
from grader.sandbox import bubblewrap
from tests.catalogue import REPO, STUB

TRACE = "eingeschleust_von_abgabe.txt"


def hostile_sources(port, grader_pid):
    reference = REPO / "solutions" / "checkpoints.py"
    return {
        # Reads the reference by its absolute path and runs it.
        "reads_reference": f"exec(open({str(reference)!r}).read())\n",
        # Walks the whole file system for any checkpoints.py with a real load_checkpoint (a classmate's).
        "walks_file_system": textwrap.dedent("""
            import os
            for folder, _, files in os.walk("/"):
                if "checkpoints.py" in files and os.path.join(folder, "checkpoints.py") != os.path.abspath(__file__):
                    text = open(os.path.join(folder, "checkpoints.py")).read()
                    if "def load_checkpoint" in text and "weights_only=True" in text and "NotImplementedError" not in text:
                        exec(text)
                        break
        """),
        "connects_to_host": textwrap.dedent(f"""
            import socket
            try:
                socket.create_connection(("127.0.0.1", {port}), timeout=2).sendall(b"Hallo von der Abgabe")
            except OSError:
                pass
        """),
        "writes_outside": textwrap.dedent(f"""
            for folder in ({str(REPO)!r}, {os.path.expanduser("~")!r}, "/tmp", "/"):
                try:
                    open(folder + "/{TRACE}", "w").write("Spur")
                except OSError:
                    pass
        """),
        "signals_grader": textwrap.dedent(f"""
            import os, signal
            try:
                os.kill({grader_pid}, signal.SIGTERM)
            except OSError:
                pass
        """),
        "fork_bomb_in_save": textwrap.dedent("""
            def save_checkpoint(model, optimizer, epoch, filename="checkpoint.pth"):
                import os, time
                for _ in range(10000):
                    if os.fork() == 0:
                        time.sleep(30)
                        os._exit(0)
        """),
    }


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory):
    assert bubblewrap() is not None or os.environ.get("CI") != "true", "In der CI muss bubblewrap laufen."
    if bubblewrap() is None:
        pytest.skip("bubblewrap fehlt: apt-get install bubblewrap")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.1)
    received = []
    root = tmp_path_factory.mktemp("feindlich")
    submissions = root / "abgaben"
    sources = hostile_sources(listener.getsockname()[1], os.getpid())
    for name, source in sources.items():
        (submissions / name).mkdir(parents=True)
        (submissions / name / "checkpoints.py").write_text(STUB.read_text(encoding="utf-8") + "\n" + source,
                                                           encoding="utf-8")
    (submissions / "klassenkamerad").mkdir()
    (submissions / "klassenkamerad" / "checkpoints.py").write_bytes((REPO / "solutions" / "checkpoints.py").read_bytes())
    handler = signal.signal(signal.SIGTERM, lambda *_: received.append("SIGTERM"))
    try:
        gradings = grade_all(submissions, root / "bewertung", workers=2, progress=False, cpu_limit=3)
    finally:
        signal.signal(signal.SIGTERM, handler)
    try:
        connection, _ = listener.accept()
        received.append(connection.recv(100))
    except OSError:
        pass
    listener.close()
    return gradings, received


@pytest.mark.parametrize("name", ["reads_reference", "walks_file_system", "connects_to_host", "writes_outside",
                                  "signals_grader", "fork_bomb_in_save"])
def test_hostile_submission_gains_nothing(hostile_class, name):
    gradings, _ = hostile_class
    assert gradings[name].points == 0, gradings[name]


def test_classmate_keeps_full_points(hostile_class):
    gradings, _ = hostile_class
    lesson_one = gradings["klassenkamerad"]
    assert lesson_one.task(1).points + lesson_one.task(2).points == lesson_one.task(1).max_points + lesson_one.task(2).max_points


def test_no_connection_and_no_signal_reached_the_host(hostile_class):
    _, received = hostile_class
    assert received == []


def test_nothing_written_outside_the_scratch_folder(hostile_class):
    for folder in (REPO, Path(os.path.expanduser("~")), Path("/tmp"), Path("/")):
        assert not (folder / TRACE).exists(), folder


def without_bubblewrap(folder):
    """An environment in which ``bwrap`` cannot be found."""
    return {**os.environ, "PATH": str(folder)}


def test_grade_without_bubblewrap_says_so_once(tmp_path):
    (tmp_path / "checkpoints.py").write_bytes((REPO / "solutions" / "checkpoints.py").read_bytes())
    result = subprocess.run([sys.executable, "-m", "grader", str(tmp_path / "checkpoints.py")], cwd=REPO,
                            env=without_bubblewrap(tmp_path), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.count("Die Abgabe wird ohne Sandbox bewertet") == 1
    assert "apt-get install bubblewrap" in result.stderr


def test_grade_all_refuses_without_bubblewrap_unless_asked(tmp_path):
    (tmp_path / "abgaben" / "a").mkdir(parents=True)
    (tmp_path / "abgaben" / "a" / "checkpoints.py").write_bytes(STUB.read_bytes())
    command = [sys.executable, "-m", "grader.batch", str(tmp_path / "abgaben"), "--ausgabe", str(tmp_path / "aus")]
    refused = subprocess.run(command, cwd=REPO, env=without_bubblewrap(tmp_path), capture_output=True, text=True,
                             timeout=600)
    assert refused.returncode == 2 and "OHNE_SANDBOX=1" in refused.stderr
    assert not (tmp_path / "aus").exists()
    allowed = subprocess.run([*command, "--ohne-sandbox"], cwd=REPO, env=without_bubblewrap(tmp_path),
                             capture_output=True, text=True, timeout=600)
    assert allowed.returncode == 0, allowed.stderr
    assert (tmp_path / "aus" / "noten.csv").is_file()


CONFINED = textwrap.dedent("""
    import os, sys
    from grader import landlock
    own, neighbour = sys.argv[1:3]
    print(landlock.confine_writes([own], files=[os.devnull]))
    def attempt(action):
        try:
            action()
            return "ja"
        except OSError as error:
            return error.errno
    print(attempt(lambda: open(os.path.join(own, "eigen.txt"), "w").close()))
    print(attempt(lambda: open(os.path.join(neighbour, "fremd.txt"), "w").close()))
    print(attempt(lambda: open(os.path.join(neighbour, "beobachtung.pt"), "ab").close()))
    print(attempt(lambda: os.rename(os.path.join(own, "eigen.txt"), os.path.join(neighbour, "eigen.txt"))))
    print(attempt(lambda: open(os.devnull, "w").close()))
    print(attempt(lambda: os.kill(os.getppid(), 0)))
    import socket
    print(attempt(lambda: socket.socket(socket.AF_UNIX).connect(b"\\0" + sys.argv[3].encode())))
""")


def test_a_probe_writes_only_into_its_own_folder_and_signals_nobody(tmp_path):
    """What grader.probes does first: the probes beside it and the worker are out of its reach."""
    version = landlock.abi_version()
    assert version >= 6 or os.environ.get("CI") != "true", "In der CI muss der Kernel Landlock ab ABI 6 haben."
    if version < 1:
        pytest.skip("Der Kernel hat kein Landlock.")
    own, neighbour = tmp_path / "eigen", tmp_path / "nachbar"
    own.mkdir()
    neighbour.mkdir()
    (neighbour / "beobachtung.pt").write_bytes(b"echt")
    listener = socket.socket(socket.AF_UNIX)
    name = f"bewerter-{os.getpid()}"
    listener.bind(b"\0" + name.encode())  # an abstract unix socket outside the probe
    listener.listen()
    with listener:
        result = subprocess.run([sys.executable, "-c", CONFINED, str(own), str(neighbour),
                                 name], cwd=REPO, capture_output=True, text=True, timeout=60)
    answers = result.stdout.split()
    assert answers[:6] == [str(version), "ja", "13", "13", "13", "ja"], result.stdout + result.stderr
    assert answers[6:] == (["1", "1"] if version >= 6 else ["ja", "ja"])  # EPERM: outside the domain
    assert [path.name for path in neighbour.iterdir()] == ["beobachtung.pt"]
    assert (neighbour / "beobachtung.pt").read_bytes() == b"echt" and (own / "eigen.txt").exists()


def test_a_file_that_unfolds_into_billions_of_values_is_not_taken(tmp_path):
    """A few KB with shared references: a repr or a comparison on the trusted side would never end."""
    import torch

    from grader.client import load_untrusted

    bomb = [None]
    for _ in range(60):
        bomb = [bomb, bomb]  # 2**60 leaves, 61 objects in the file
    torch.save({"losses": bomb}, tmp_path / "beobachtung.pt")
    assert (tmp_path / "beobachtung.pt").stat().st_size < 10_000
    with pytest.raises(ValueError, match="zu viele oder zu tief verschachtelte Werte"):
        load_untrusted(tmp_path, "beobachtung.pt")
    torch.save({"losses": [1.0] * 1000}, tmp_path / "echt.pt")
    assert load_untrusted(tmp_path, "echt.pt") == {"losses": [1.0] * 1000}
