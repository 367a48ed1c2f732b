"""Lesson 5 shows what its examples print when they run, and its sentences follow from the measurements.

The slow examples run through the directive ``cached-output`` (``source/_ext/cached_output.py``); the
tests here check that the page holds their real output, that a changed example runs again and that
a failing one stops the build. The measurements come from ``course/distributed_benchmark.py``.
"""

import html
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from course.distributed_benchmark import table_and_sentences

REPO = Path(__file__).resolve().parent.parent
GENERATED = REPO / "source" / "_generated"


def text_of(page):
    return html.unescape(re.sub(r"<[^>]+>", "", page))


@pytest.fixture(scope="module")
def page(site):
    return text_of((site / "verteilt.html").read_text(encoding="utf-8"))


def numbers(line):
    return [float(number.replace(",", ".")) for number in re.findall(r"\d+,\d+", line)]


def test_sizes_of_a_checkpoint(page):
    ratio = re.search(r"mit Adam nach einem Schritt:\s+[\d,]+ MB = (\d+,\d+) × nur Gewichte", page)
    assert ratio and 2.9 < numbers(ratio[1])[0] < 3.1
    assert re.search(r"mit Adam vor dem ersten Schritt:\s+8,4 MB", page)
    assert re.search(r"10 Zahlen als View von 10 Mio\.:\s+40,0 MB", page)
    assert re.search(r"dieselben 10 Zahlen nach clone\(\):\s+1,\d kB", page)


def test_loading_with_meta_and_mmap_needs_almost_no_memory(page):
    rows = {label: numbers(line) for label, line in
            re.findall(r"^(üblich|meta \+ mmap(?:, danach ein Vorwärtsschritt)?) +(\d.*)$", page, re.MULTILINE)}
    assert set(rows) == {"üblich", "meta + mmap", "meta + mmap, danach ein Vorwärtsschritt"}
    peak, anonymous, file = rows["üblich"]
    assert 1.7 < peak < 2.3 and 0.9 < anonymous < 1.1  # doppelt auf der Spitze, die Hälfte bleibt
    assert rows["meta + mmap"][0] < 0.2 and rows["meta + mmap"][1] < 0.05
    peak, anonymous, file = rows["meta + mmap, danach ein Vorwärtsschritt"]
    assert anonymous < 0.05 and 0.9 < file < 1.2
    assert "Optimierer erzeugt vor load_state_dict(assign=True): Gewichte geändert: False" in page
    assert "Optimierer erzeugt danach: Gewichte geändert: True" in page
    assert "altes Format mit mmap=True: RuntimeError mmap can only be used with files saved with" in page


def test_safetensors_limits(page):
    assert "Optimiererzustand: ValueError: Key `state` is invalid" in page
    assert "Schrittzähler: ValueError: Key `schritt` is invalid" in page
    assert "geteilte Gewichte mit save_file: RuntimeError: Some tensors share memory" in page
    assert "load_model: Matrix weiter geteilt: True gleich: True" in page
    assert re.search(r"10 Zahlen als View von 10 Mio\.: 1\d\d Bytes", page)
    assert "'__metadata__': {'output.weight': 'embedding.weight'}" in page


def test_dcp_basics(page):
    assert re.search(r"Dateien: \.metadata \(\d+ Bytes\), __0_0\.distcp \(\d+ Bytes\), __1_0\.distcp \(\d+ Bytes\)",
                     page)
    for rank in (0, 1):
        assert f"Rang {rank}: 0.weight ist ein DTensor der Form (16, 8), dieser Rang hält (8, 8)" in page
        assert f"Rang {rank}: mit optimizer.state_dict(): 0 Einträge im Zustand geladen, kein Fehler" in page
        assert (f"Rang {rank}: mit get_state_dict: 4 Einträge geladen, Modell bitgleich: True, "
                "Optimierer bitgleich: True") in page
    assert "Rang 0: full_state_dict=True, cpu_offload=True: 4 Tensoren, 0.weight als Tensor der Form (16, 8)" in page
    assert "Rang 1: full_state_dict=True, cpu_offload=True: 0 Tensoren" in page
    assert "$ OMP_NUM_THREADS=1 torchrun --standalone --nproc-per-node=2 examples/dcp_basics_example.py" in page


def test_stateful_call_order(page):
    calls = re.search(r"dcp\.save ruft auf:\s+state_dict\(\): 4 Parameter mit Optimiererzustand\s+"
                      r"dcp\.load ruft auf:\s+state_dict\(\): 4 Parameter mit Optimiererzustand\s+"
                      r"load_state_dict\(\): Summe von exp_avg für '0\.weight' (\d\.\d+)\s+"
                      r"Gewichte danach bitgleich: True", page)
    assert calls and f"Summe von exp_avg für '0.weight' {calls[1]}\n" in page  # derselbe Wert wie vor dem Speichern


def test_per_rank_values_under_one_key_come_back_from_one_rank(page):
    lines = re.findall(r"Rang (\d): 'rng' ist der eigene Zustand: (True|False); 'rng_je_rang' ist der eigene "
                       r"Zustand: (True|False); 'schritt_dieses_rangs' = (\d+) \(gespeichert: (\d+)\)", page)
    assert len(lines) == 2
    assert sorted(own for _, own, _, _, _ in lines) == ["False", "True"]  # nur ein Rang bekommt seinen Zustand
    assert all(per_rank == "True" for _, _, per_rank, _, _ in lines)
    assert len({loaded for _, _, _, loaded, _ in lines}) == 1  # beide bekommen dieselbe Zahl
    assert "Schlüssel im Checkpoint: ['rng', 'rng_je_rang.rang-0', 'rng_je_rang.rang-1', 'schritt_dieses_rangs']" in page


def test_two_ranks_load_into_one_process(page):
    assert "0.weight im einen Prozess: Parameter (16, 8)" in page
    assert "Modell bitgleich mit dem gesammelten Zustand: True" in page
    assert "Optimierer bitgleich: True" in page


def test_more_ranks_than_saved_need_the_keys_of_the_checkpoint(page):
    """Three ranks load what two saved: the template of lesson 5's task fails, checking the keys first works."""
    for rank in (0, 1, 2):
        assert f"Rang {rank}: CheckpointException ranks:dict_keys([2])\n" in page
    assert "Ursache auf Rang 2: RuntimeError: Missing key in checkpoint state_dict: app.rng.rang-2." in page
    saved = dict(re.findall(r"Rang (\d): gespeichert, die nächsten Zufallszahlen wären (\[.+\])", page))
    loaded = dict(re.findall(r"Rang (\d): Schritt 3, Zufallsgenerator (?:geladen|neu, Startwert \d+), "
                             r"die nächsten Zufallszahlen (\[.+\])", page))
    assert saved.keys() == {"0", "1"} and loaded.keys() == {"0", "1", "2"}
    assert all(f"Rang {rank}: Schritt 3, Zufallsgenerator geladen" in page for rank in saved)
    assert loaded["0"] == saved["0"] and loaded["1"] == saved["1"]  # dieselben Zahlen wie ohne Neustart
    assert "Rang 2: Schritt 3, Zufallsgenerator neu, Startwert 3002" in page
    assert len(set(loaded.values())) == 3  # der neue Rang zieht andere Zahlen als die beiden alten


def test_partial_load_skips_every_missing_key(tmp_path):
    """What the lesson says about ``allow_partial_load``: a renamed parameter keeps its value, without a word."""
    script = """
import warnings
import torch
import torch.distributed.checkpoint as dcp
from torch.distributed.checkpoint import DefaultLoadPlanner
from torch.distributed.checkpoint.api import CheckpointException

warnings.filterwarnings("ignore", message="torch.distributed is disabled")
dcp.save({"app": {"model": {"0.weight": torch.ones(2)}, "rng": {"rang-0": torch.get_rng_state()}}},
         checkpoint_id="ckpt")
torch.manual_seed(1)
fresh = torch.get_rng_state()
template = {"app": {"model": {"layer.0.weight": torch.zeros(2)}, "rng": {"rang-1": fresh.clone()}}}
try:
    dcp.load(template, checkpoint_id="ckpt")
except CheckpointException as error:
    print("strict:", type(error.failures[0][0]).__name__)
dcp.load(template, checkpoint_id="ckpt", planner=DefaultLoadPlanner(allow_partial_load=True))
print("partial:", template["app"]["model"]["layer.0.weight"].tolist(), torch.equal(template["app"]["rng"]["rang-1"], fresh))
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300, check=True)
    assert result.stdout == "strict: RuntimeError\npartial: [0.0, 0.0] True\n"


def test_conversion_and_the_recipe_errors(page):
    assert re.search(r"rang-0: Tensor \(\d+,\)\s+rang-1: Tensor \(\d+,\)\s+torch_save_to_dcp: \['\.metadata', "
                     r"'__0_0\.distcp'\]", page)
    assert "Status 2: format_utils.py: error: argument mode: invalid choice: 'schritt-000100'" in page
    assert "Status 0: No checkpoint found at schritt-999999. Skipping conversion." in page
    assert "dcp_to_torch_save mit einer Datei als Quelle: CheckpointException" in page
    assert "Not a directory: 'schritt-000100.pt/.metadata'" in page
    assert "CheckpointException ist eine Unterklasse von Exception: False" in page


def test_foreign_dcp_checkpoints_run_code(page):
    for label in ("dcp.load mit präparierter .metadata: CheckpointException",
                  "dcp.load eines Werts, der kein Tensor ist: geladen",
                  "torch_save_to_dcp einer präparierten .pt-Datei: CheckpointException"):
        assert f"{label}; Code aus der Datei ausgeführt: True" in page
    assert "torch.load(..., weights_only=True) einer solchen Datei: UnpicklingError; Code aus der Datei ausgeführt: False" in page


def test_async_checkpoints_hold_the_weights_of_the_call(page):
    for rank in (0, 1):
        assert (f"Rang {rank}: Gewichte beim Aufruf von async_save gegen Checkpoint: schritt-000002 bitgleich, "
                "schritt-000004 bitgleich, schritt-000006 bitgleich") in page
    assert "vollständig (mit .metadata): ['schritt-000002', 'schritt-000004', 'schritt-000006']" in page


def test_demo_run_on_the_page(page):
    assert "Unterbrochen (SIGTERM): Der Stand nach Schritt 55 ist in 'checkpoints-verteilt/schritt-000055'" in page
    assert re.search(r"Exit-Status 143\s+Im Ordner: schritt-000040, schritt-000055\s+2\. Start:", page)
    assert "Setze das Training nach Schritt 55 fort" in page
    assert "Modell und Optimierer am Ende bitgenau wie bei einem Lauf ohne Unterbrechung: ja." in page


def test_measurement_table_and_sentences_come_from_the_numbers(page):
    results = json.loads((GENERATED / "verteilt_messung.json").read_text(encoding="utf-8"))
    generated = table_and_sentences(results)
    assert (GENERATED / "verteilt_messung.inc").read_text(encoding="utf-8") == generated
    assert 95e6 < results["parameters"] < 105e6
    assert results["bytes"] == 3 * results["parameters"] * 4  # Gewichte, exp_avg, exp_avg_sq in float32
    for sentence in re.findall(r"^\* (.+)$", generated, re.MULTILINE):
        assert re.sub(r"``", "", sentence) in re.sub(r"\s+", " ", page)
    ratios = re.findall(r"^     - (\d+,\d\d) ×$", generated, re.MULTILINE)
    assert len(ratios) == 11 and ratios[0] == ratios[5] == "1,00"  # die Maßstäbe: rohes Schreiben und Lesen
    assert re.search(r".*?".join(f"{ratio} ×" for ratio in ratios), page, re.DOTALL)  # in dieser Reihenfolge


def test_sentences_follow_the_numbers():
    results = json.loads((GENERATED / "verteilt_messung.json").read_text(encoding="utf-8"))
    faster = {**results, "training_none": 10.0, "training_sync": 14.0, "training_async": 10.5}
    assert "sparte hier also 88 % der Zeit" in table_and_sentences(faster)
    slower = {**results, "training_none": 10.0, "training_sync": 14.0, "training_async": 15.0}
    assert "kostete hier also sogar mehr Zeit als ``dcp.save``" in table_and_sentences(slower)
    little = {**results, "training_none": 10.0, "training_sync": 14.0, "training_async": 13.5}
    assert "brachte hier also kaum etwas: Es sparte nur 12 %" in table_and_sentences(little)
    assert "das 2,0-Fache der Zeit des rohen Schreibens" in table_and_sentences(
        {**results, "torch_save": 2 * results["raw_save"]})


def minimal_project(tmp_path, script):
    """A Sphinx project with only the directive ``cached-output`` and one page that runs ``script``."""
    source = tmp_path / "quelle"
    source.mkdir()
    (source / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(REPO / 'source' / '_ext')!r})\nextensions = ['cached_output']\n",
        encoding="utf-8")
    (source / "index.rst").write_text(
        "Seite\n=====\n\n.. cached-output:: GRUSS=hallo python skript.py\n   :quellen: skript.py\n   :prompt:\n",
        encoding="utf-8")
    (source / "skript.py").write_text(script, encoding="utf-8")
    return source


def build(source, output):
    return subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-n", "-W", "--keep-going", "-q",
                           str(source), str(output)], capture_output=True, text=True, timeout=300)


def test_cached_output_runs_once_reruns_after_a_change_and_fails_the_build_on_an_error(tmp_path):
    counter = tmp_path / "laeufe.txt"
    source = minimal_project(tmp_path, f"import os\nopen({str(counter)!r}, 'a').write('x')\n"
                                       "print(os.environ['GRUSS'], 'Welt')\n")
    assert build(source, tmp_path / "a").returncode == 0
    assert "$ GRUSS=hallo python skript.py\nhallo Welt" in text_of((tmp_path / "a" / "index.html").read_text())
    assert build(source, tmp_path / "b").returncode == 0  # neue Ausgabe, dieselben Quellen: aus dem Zwischenspeicher
    assert counter.read_text() == "x"
    (source / "skript.py").write_text("print('geändert')\n", encoding="utf-8")
    assert build(source, tmp_path / "a").returncode == 0  # Sphinx liest die Seite neu, weil die Quelle sich änderte
    assert "geändert" in text_of((tmp_path / "a" / "index.html").read_text())
    assert len(list((source / "_generated" / "ausgaben").glob("*.txt"))) == 1  # die alte Ausgabe ist weg
    (source / "skript.py").write_text("raise SystemExit('kaputt')\n", encoding="utf-8")
    failed = build(source, tmp_path / "c")
    assert failed.returncode != 0 and "endete mit dem Status 1" in failed.stderr and "kaputt" in failed.stderr


def test_every_cached_output_depends_on_its_example_and_the_page_shows_it(site):
    """The script a command runs is one of its sources (so a change runs it again), and its output is on the page."""
    lesson = (REPO / "source" / "verteilt.rst").read_text(encoding="utf-8")
    directives = re.findall(r"^\.\. cached-output:: (.+)\n   :quellen: (.+)$", lesson, re.MULTILINE)
    assert len(directives) == 8
    shown = re.sub(r"\s+", " ", text_of((site / "verteilt.html").read_text(encoding="utf-8")))
    for command, sources in directives:
        script = command.split()[-1]
        assert script in sources.split(), command
        outputs = [path.read_text(encoding="utf-8") for path in (GENERATED / "ausgaben").glob(f"{Path(script).stem}-*.txt")]
        assert any(re.sub(r"\s+", " ", output) in shown for output in outputs), command
    demo = dict(directives)["python examples/distributed_demo.py"].split()
    assert {"../course/distributed_training.py", "../solutions/verteilt.py"} <= set(demo)
