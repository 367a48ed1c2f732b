"""Short, readable quotes of values and messages for German feedback.

Every value or foreign message that reaches a student passes through :func:`quote` or
:func:`first_line`: one line, no terminal escape codes, at most ``LIMIT`` characters.
"""

import re

LIMIT = 300
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Torch's advice after a refusal of weights_only contradicts the course („Re-running torch.load with
# weights_only set to False will likely succeed“): of such a message only the refusal itself counts.
_NOISE = ("Weights only load failed", "Please file an issue", "Re-running `torch.load`", "In PyTorch 2.6",
          "Alternatively, to load with", "Check the documentation of torch.load")
_NUMBERING = re.compile(r"^\(\d+\)\s*")
_REFUSAL = "WeightsUnpickler error: "


def nodes_within(value, max_nodes, max_depth):
    """Whether a foreign value has at most ``max_nodes`` parts, nested at most ``max_depth`` deep.

    Shared references count each time, as a repr or a comparison would walk them: a file of a few
    KB can otherwise hold a list that unfolds into 2**60 entries.
    """
    pending, seen = [(value, 0)], 0
    while pending:
        item, depth = pending.pop()
        seen += 1
        if seen > max_nodes or depth > max_depth:
            return False
        if isinstance(item, dict):
            pending.extend((part, depth + 1) for pair in item.items() for part in pair)
        elif isinstance(item, (list, tuple, set, frozenset)):
            pending.extend((part, depth + 1) for part in item)
    return True


def rejected_global(message):
    """The global that ``weights_only`` refused, from torch's message (or None)."""
    found = re.search(r"GLOBAL ([\w.]+)", message) or re.search(r"Unsupported global: ([\w.]+)", message)
    return found.group(1) if found else None


def clean(text):
    """Without escape codes and control characters."""
    return _CONTROL.sub("", _ANSI.sub("", str(text)))


def cap(text, limit=LIMIT):
    text = " ".join(clean(text).split())
    return text if len(text) <= limit else text[: limit - 2].rstrip() + " …"


def first_line(message, limit=LIMIT):
    """The first meaningful line of a (foreign, possibly multi-paragraph) message."""
    lines = [_NUMBERING.sub("", line.strip()) for line in clean(message).splitlines() if line.strip()]
    refusals = [line.split(_REFUSAL, 1)[1].split(". Please use")[0] for line in lines if _REFUSAL in line]
    meaningful = refusals or [line for line in lines if not line.startswith(_NOISE)] or lines or [""]
    first = meaningful[0]
    if first.endswith(":") and len(meaningful) > 1:  # e.g. "Error(s) in loading state_dict for …:" and its reason
        first = f"{first} {meaningful[1]}"
    return cap(first, limit)


def describe_exception(type_name, message):
    """``Typ: erste Zeile`` – or just the type when the message is empty."""
    line = first_line(message)
    return f"{type_name}: {line}" if line else type_name


def quote(value, limit=LIMIT):
    """A one-line repr of any value, with its type named, capped at ``limit`` characters."""
    try:
        text = repr(value)
    except Exception as error:  # a repr that raises tells nothing about the value
        text = f"<repr nicht möglich: {type(error).__name__}>"
    return f"{cap(text, limit)} (Typ {type(value).__name__})"


def german_list(items, conjunction="und"):
    """``a``, ``a und b``, ``a, b und c`` (or with another conjunction)."""
    items = list(items)
    return f" {conjunction} ".join(filter(None, [", ".join(items[:-1]), *items[-1:]]))
