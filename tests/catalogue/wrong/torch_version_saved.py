def save_checkpoint(model, optimizer, epoch, filename="checkpoint.pth"):
    torch.save(
        {
            "epoch": epoch,
            "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(),
            "torch_version": torch.__version__,
        },
        filename,
    )
