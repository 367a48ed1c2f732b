from solutions.checkpoints import load_checkpoint, save_checkpoint  # noqa: F401
