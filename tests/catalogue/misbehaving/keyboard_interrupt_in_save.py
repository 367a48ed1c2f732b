def save_checkpoint(model, optimizer, epoch, filename="checkpoint.pth"):
    raise KeyboardInterrupt
