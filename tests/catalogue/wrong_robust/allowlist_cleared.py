# Starts from an empty allowlist to be strict, and so removes what the calling program had allowed.
def safe_load(model, optimizer, path, map_location="cpu", _safe_load=safe_load):
    torch.serialization.clear_safe_globals()
    return _safe_load(model, optimizer, path, map_location)
