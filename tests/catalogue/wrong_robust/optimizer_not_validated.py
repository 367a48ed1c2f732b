# Validates the model completely, loads it, and only then meets the optimizer's other parameter groups.
def safe_load(model, optimizer, path, map_location="cpu"):
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:
        print(f"Checkpoint nicht geladen: {error}")
        return None
    if not isinstance(checkpoint, dict) or "optimizer_state_dict" not in checkpoint or "model_state_dict" not in checkpoint:
        print("Checkpoint nicht geladen: Es fehlt 'model_state_dict' oder 'optimizer_state_dict'.")
        return None
    problem = _model_problem(checkpoint["model_state_dict"], model.state_dict())
    if problem:
        print(problem)
        return None
    model.load_state_dict(_matching_state(checkpoint["model_state_dict"], model.state_dict()))
    try:
        optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    except Exception as error:
        print(f"Optimierer nicht geladen: {error}")
        return None
    return {key: value for key, value in checkpoint.items() if not key.endswith("_state_dict")}
