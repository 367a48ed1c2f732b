"""Quotes in the feedback: one short line, no escape codes, the point of a foreign message."""

import io

import numpy as np
import pytest
import torch

from grader.text import LIMIT, cap, first_line, quote


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
