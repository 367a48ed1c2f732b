# A fixed temporary name beside the target (pathlib); safe_load loads and undoes everything if torch refuses.
import copy
from pathlib import Path


def atomic_save(obj, path):
    target = Path(path).resolve()
    temporary = target.with_name(target.name + ".teilweise")
    try:
        with open(temporary, "wb") as file:
            torch.save(obj, file)
            file.flush()
            os.fsync(file.fileno())
        temporary.replace(target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def safe_load(model, optimizer, path, map_location="cpu"):
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
        model_state = dict(checkpoint["model_state_dict"])
        optimizer_state = checkpoint["optimizer_state_dict"]
    except Exception as error:
        print(f"Nicht geladen ({type(error).__name__}): {error}")
        return None
    expected = model.state_dict().keys()
    if model_state.keys() != expected:
        for prefix in ("module.", "_orig_mod."):
            if all(key.startswith(prefix) for key in model_state) and {k[len(prefix):] for k in model_state} == set(expected):
                model_state = {key[len(prefix):]: value for key, value in model_state.items()}
                break
    saved = copy.deepcopy(model.state_dict()), copy.deepcopy(optimizer.state_dict())
    try:
        model.load_state_dict(model_state)
        optimizer.load_state_dict(optimizer_state)
        for parameter, state in optimizer.state.items():  # torch does not check these shapes itself
            for name, value in state.items():
                if value.dim() > 0 and value.shape != parameter.shape:
                    raise ValueError(f"{name} hat die Form {tuple(value.shape)}, der Parameter {tuple(parameter.shape)}")
    except Exception as error:
        model.load_state_dict(saved[0])
        optimizer.load_state_dict(saved[1])
        print(f"Nicht geladen, alles zurückgesetzt ({type(error).__name__}): {error}")
        return None
    return {key: value for key, value in checkpoint.items() if key not in ("model_state_dict", "optimizer_state_dict")}
