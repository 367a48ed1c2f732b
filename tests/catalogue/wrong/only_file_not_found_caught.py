def load_checkpoint(model, optimizer, filename="checkpoint.pth"):
    try:
        checkpoint = torch.load(filename, weights_only=True)
    except FileNotFoundError:
        print("Kein Checkpoint gefunden, Start bei Epoche 0.")
        return 0
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    return checkpoint["epoch"]
