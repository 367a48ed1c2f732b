"""Texts of the feedback: one short quoted line, no escape codes, the point of a foreign message; which rank failed first."""

import io

import numpy as np
import pytest
import torch

from grader.text import LIMIT, cap, first_line, quote
from tests.grading.test_aufgabe8_verteilt import how_it_failed


def refusal_of_torch():
    buffer = io.BytesIO()
    torch.save({"rng": np.zeros(3)}, buffer)
    with pytest.raises(Exception) as excinfo:
        torch.load(io.BytesIO(buffer.getvalue()), weights_only=True)
    return str(excinfo.value)


def test_refusal_of_weights_only_is_reduced_to_the_rejected_global():
    message = refusal_of_torch()
    assert "\x1b[" in message and "Re-running `torch.load`" in message  # what torch says on 2.13
    line = first_line(message)
    assert line.startswith("Unsupported global: GLOBAL numpy") and line.endswith("not an allowed global by default")


def test_a_heading_line_keeps_its_reason():
    line = first_line("Error(s) in loading state_dict for Sequential:\n\tsize mismatch for 0.weight: copying …")
    assert line == "Error(s) in loading state_dict for Sequential: size mismatch for 0.weight: copying …"


def test_quotes_are_one_capped_line_without_escape_codes():
    text = quote({"gewichte": torch.zeros(1000), "farbe": "\x1b[31mrot\x1b[0m\nzweite Zeile"})
    assert "\n" not in text and "\x1b" not in text and len(text) <= LIMIT + len(" (Typ dict)")
    assert text.endswith("(Typ dict)") and " …" in text
    assert cap("a\x07b") == "ab"


GLOO_PEER_LOST = ("Connection closed by peer [127.0.0.1]:4819. This is typically caused by a remote worker crashing. "
                  "Check the logs of the remote worker before reporting an error.")


def rank(error=None, exit=None, where="save_checkpoint nach Schritt 3"):
    errors = {"training": {"type": "RuntimeError", "message": error, "where": where}} if error else {}
    return {"errors": errors, "where": where, "exit": exit}


def test_a_rank_that_lost_its_peer_is_named_after_the_rank_that_failed_first():
    text = how_it_failed({"ranks": {0: rank(GLOO_PEER_LOST, exit=1), 1: rank("Platte voll", exit=1)}}, "training")
    assert text == ("Rang 1 scheiterte bei save_checkpoint nach Schritt 3: RuntimeError: Platte voll. "
                    "Rang 0 verlor darauf bei save_checkpoint nach Schritt 3 die Verbindung zum anderen Rang.")
    killed = how_it_failed({"ranks": {0: rank(GLOO_PEER_LOST, exit=1), 1: rank(exit=-9)}}, "training")
    assert killed == ("Rang 1 wurde bei save_checkpoint nach Schritt 3 beendet (Signal 9). "
                      "Rang 0 verlor darauf bei save_checkpoint nach Schritt 3 die Verbindung zum anderen Rang.")


def test_a_lost_connection_alone_is_reported_as_such():
    text = how_it_failed({"ranks": {0: rank(GLOO_PEER_LOST, exit=1), 1: rank(exit=0)}}, "training")
    assert text == "Rang 0 verlor bei save_checkpoint nach Schritt 3 die Verbindung zum anderen Rang."
