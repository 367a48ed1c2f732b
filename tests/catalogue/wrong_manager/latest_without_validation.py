# Returns the newest file without trying to load it.
def _latest_valid(self):
    found = sorted(self._scan(), key=lambda item: item[1], reverse=True)
    return found[0][0] if found else None


CheckpointManager.latest_valid = _latest_valid
