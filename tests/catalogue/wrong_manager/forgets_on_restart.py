# Knows only the checkpoints it saved itself: after a restart the old best is deleted by the next save.
_original_init = CheckpointManager.__init__


def _init(self, folder, keep=3, monitor="val_loss", mode="min"):
    _original_init(self, folder, keep, monitor, mode)
    self._checkpoints = {}


CheckpointManager.__init__ = _init
