# "not (value >= best)": for NaN every comparison is False, so NaN wins.
def _better(self, value, than):
    return not (value >= than) if self.mode == "min" else not (value <= than)


def _best_entry(self):
    best = None
    for path, (step, value) in sorted(self._checkpoints.items(), key=lambda item: item[1][0]):
        if value is None:
            continue
        if best is None or self._better(value, best[1]):
            best = (path, value)
    return best


CheckpointManager._better = _better
CheckpointManager._best_entry = _best_entry
