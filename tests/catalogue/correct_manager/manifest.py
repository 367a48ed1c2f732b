# A manifest (JSON, written atomically) instead of scanning; messages through logging; os.scandir.
import json
import logging

log = logging.getLogger("verwaltung")


class CheckpointManager(CheckpointManager):
    def __init__(self, folder, keep=3, monitor="val_loss", mode="min"):
        super().__init__(folder, keep, monitor, mode)
        manifest = self.folder / "manifest.json"
        if manifest.exists():
            entries = json.loads(manifest.read_text())
            self._checkpoints = {self.folder / name: (step, value) for name, step, value in entries}

    def _write_manifest(self):
        entries = [[path.name, step, value] for path, (step, value) in self._checkpoints.items()]
        temporary = self.folder / ".manifest.json.tmp"
        temporary.write_text(json.dumps(entries))
        os.replace(temporary, self.folder / "manifest.json")

    def save(self, step, state, metrics):
        path = super().save(step, state, metrics)
        self._write_manifest()
        return path

    def latest_valid(self):
        entries = sorted((entry for entry in os.scandir(self.folder) if _NAME.fullmatch(entry.name)),
                         key=lambda entry: int(_NAME.fullmatch(entry.name).group(1)), reverse=True)
        for entry in entries:
            try:
                checkpoint = torch.load(entry.path, weights_only=True)
                if {"step", "metrics", "state"} <= checkpoint.keys():
                    return Path(entry.path)
                log.warning("%s übersprungen: Schlüssel fehlen", entry.name)
            except Exception as error:
                log.warning("%s übersprungen: %s", entry.name, type(error).__name__)
        return None
