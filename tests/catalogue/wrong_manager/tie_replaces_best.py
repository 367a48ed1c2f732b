# "<=" instead of "<": on a tie the later checkpoint becomes the best.
def _better(self, value, than):
    return value <= than if self.mode == "min" else value >= than


CheckpointManager._better = _better
