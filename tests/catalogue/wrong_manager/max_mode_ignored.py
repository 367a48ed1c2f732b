# Accepts mode="max" but always keeps the smallest value.
def _better(self, value, than):
    return value < than


CheckpointManager._better = _better
