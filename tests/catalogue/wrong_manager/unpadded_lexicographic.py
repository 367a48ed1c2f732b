# Names without zero padding, sorted as strings: "schritt-1000.pt" < "schritt-999.pt".
def _save(self, step, state, metrics):
    value = float(metrics[self.monitor])
    path = self.folder / f"schritt-{step}.pt"
    _atomic_save({"step": step, "metrics": metrics, "state": state}, path)
    self._checkpoints[path] = (step, value)
    newest = sorted(self._checkpoints, key=lambda p: p.name, reverse=True)
    kept = set(newest[:self.keep])
    best = self._best_entry()
    if best is not None:
        kept.add(best[0])
    for old in newest[self.keep:]:
        if old not in kept:
            old.unlink(missing_ok=True)
            del self._checkpoints[old]
    return path


def _latest_valid(self):
    for path in sorted(self.folder.glob("schritt-*.pt"), key=lambda p: p.name, reverse=True):
        try:
            checkpoint = torch.load(path, weights_only=True)
        except Exception as error:
            print(f"Überspringe {path.name}: {error}")
            continue
        if isinstance(checkpoint, dict) and all(key in checkpoint for key in _KEYS):
            return path
        print(f"Überspringe {path.name}: kein Checkpoint")
    return None


CheckpointManager.save = _save
CheckpointManager.latest_valid = _latest_valid
