# Forgets map_location: a checkpoint written on a GPU machine does not load on the CPU.
_load = torch.load


def _load_without_map_location(path, map_location=None, **options):
    return _load(path, **options)


def safe_load(model, optimizer, path, map_location="cpu", _safe_load=safe_load):
    torch.load = _load_without_map_location
    try:
        return _safe_load(model, optimizer, path, map_location)
    finally:
        torch.load = _load
