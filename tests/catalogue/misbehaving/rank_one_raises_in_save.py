# Rank 1 fails in save_checkpoint; rank 0 would wait for it.
_reference_save_checkpoint = save_checkpoint


def save_checkpoint(folder, state):
    if _rank() == 1:
        raise RuntimeError("Platte voll")
    _reference_save_checkpoint(folder, state)
