# Says only that something is wrong, never what.
import contextlib
import io


def safe_load(model, optimizer, path, map_location="cpu", _safe_load=safe_load):
    with contextlib.redirect_stdout(io.StringIO()):
        rest = _safe_load(model, optimizer, path, map_location)
    if rest is None:
        print("Der Checkpoint passt nicht.")
    return rest
