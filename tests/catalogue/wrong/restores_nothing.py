def load_checkpoint(model, optimizer, filename="checkpoint.pth"):
    try:
        checkpoint = torch.load(filename, weights_only=True)
        return checkpoint["epoch"]
    except Exception as error:
        print(f"Checkpoint nicht geladen: {error}")
        return 0
