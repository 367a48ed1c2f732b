import os


def load_checkpoint(model, optimizer, filename="checkpoint.pth"):
    if not os.path.exists(filename):
        print("Kein Checkpoint gefunden, Start bei Epoche 0.")
        return 0
    checkpoint = torch.load(filename, weights_only=True)
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    return checkpoint["epoch"]
