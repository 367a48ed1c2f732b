# NamedTemporaryFile beside the target; safe_load tries everything on deep copies first, messages via logging.
import copy
import logging

log = logging.getLogger("checkpoints")


def atomic_save(obj, path):
    folder = os.path.dirname(os.path.abspath(path))
    with tempfile.NamedTemporaryFile(dir=folder, delete=False) as file:
        try:
            torch.save(obj, file)
            file.flush()
            os.fsync(file.fileno())
        except BaseException:
            file.close()
            os.unlink(file.name)
            raise
    try:
        os.replace(file.name, path)
    except BaseException:
        os.unlink(file.name)
        raise


def safe_load(model, optimizer, path, map_location="cpu"):
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
        state = checkpoint["model_state_dict"]
        names = set(model.state_dict())
        if set(state) != names:
            for prefix in ("module.", "_orig_mod."):
                stripped = {key.removeprefix(prefix): value for key, value in state.items()}
                if all(key.startswith(prefix) for key in state) and set(stripped) == names:
                    state = stripped
        model_copy, optimizer_copy = copy.deepcopy((model, optimizer))
        model_copy.load_state_dict(state)
        optimizer_copy.load_state_dict(checkpoint["optimizer_state_dict"])
        bad = [(list(v.shape), list(p.shape)) for p, s in optimizer_copy.state.items() for v in s.values()
               if v.dim() and v.shape != p.shape]
        if bad:
            raise ValueError(f"Optimiererzustand mit Form {bad[0][0]} für einen Parameter der Form {bad[0][1]}")
    except Exception as error:
        log.warning("Checkpoint %s nicht geladen: %s: %s", path, type(error).__name__, error)
        return None
    model.load_state_dict(state)
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    return {key: value for key, value in checkpoint.items() if key not in ("model_state_dict", "optimizer_state_dict")}
