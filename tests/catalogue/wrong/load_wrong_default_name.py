def load_checkpoint(model, optimizer, filename="checkpoint.pt"):
    try:
        checkpoint = torch.load(filename, weights_only=True)
        epoch = checkpoint["epoch"]
        copy.deepcopy(model).load_state_dict(checkpoint["model_state_dict"])
        optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
        model.load_state_dict(checkpoint["model_state_dict"])
    except Exception as error:
        print(f"Checkpoint nicht geladen: {error}")
        return 0
    return epoch
