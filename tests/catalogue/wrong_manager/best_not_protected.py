# Keeps only the newest: the best checkpoint is deleted once it is old enough.
def _rotate(self):
    newest = sorted(self._checkpoints, key=lambda path: self._checkpoints[path][0], reverse=True)
    for path in newest[self.keep:]:
        path.unlink(missing_ok=True)


CheckpointManager._rotate = _rotate
