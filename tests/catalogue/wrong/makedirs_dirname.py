import os


def save_checkpoint(model, optimizer, epoch, filename="checkpoint.pth"):
    os.makedirs(os.path.dirname(filename), exist_ok=True)
    torch.save(
        {"epoch": epoch, "model_state_dict": model.state_dict(), "optimizer_state_dict": optimizer.state_dict()},
        filename,
    )
