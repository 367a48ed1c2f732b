# Any file that loads counts as a checkpoint, even a foreign dictionary without "step", "metrics" and "state".
def _latest_valid(self):
    for path, _ in sorted(self._scan(), key=lambda item: item[1], reverse=True):
        try:
            torch.load(path, weights_only=True)
        except Exception as error:
            print(f"Überspringe {path.name}: {type(error).__name__}")
            continue
        return path
    return None


CheckpointManager.latest_valid = _latest_valid
