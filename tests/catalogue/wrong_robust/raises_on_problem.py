# Reports the problem, then raises instead of returning None.
def safe_load(model, optimizer, path, map_location="cpu", _safe_load=safe_load):
    rest = _safe_load(model, optimizer, path, map_location)
    if rest is None:
        raise ValueError(f"Checkpoint {path} nicht geladen")
    return rest
