def save_checkpoint(model, optimizer, epoch, filename="checkpoint.pth"):
    checkpoint = {
        "epoch": epoch,
        "model_state_dict": dict(model.named_parameters()),
        "optimizer_state_dict": optimizer.state_dict(),
    }
    torch.save(checkpoint, filename)
