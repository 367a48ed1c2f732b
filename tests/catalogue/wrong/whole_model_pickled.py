def save_checkpoint(model, optimizer, epoch, filename="checkpoint.pth"):
    torch.save({"epoch": epoch, "model": model, "optimizer": optimizer}, filename)
