def load_checkpoint(model, optimizer, filename="checkpoint.pth"):
    try:
        checkpoint = torch.load(filename, weights_only=True)
        optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
        model.load_state_dict(checkpoint["model_state_dict"])
        return checkpoint["epoch"]
    except Exception as error:
        print(f"Checkpoint nicht geladen: {error}")
        return 0
