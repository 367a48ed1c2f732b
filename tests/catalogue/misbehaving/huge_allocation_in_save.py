def save_checkpoint(model, optimizer, epoch, filename="checkpoint.pth"):
    reserve = bytearray(4 * 1024**3)
    torch.save({"epoch": epoch, "reserve": len(reserve)}, filename)
