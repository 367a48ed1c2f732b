import sys
from pathlib import Path


def save_checkpoint(model, optimizer, epoch, filename="checkpoint.pth"):
    Path(filename).parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "epoch": epoch,
            "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(),
            "torch_version": str(torch.__version__),
            "notiz": "gespeichert nach einer abgeschlossenen Epoche",
        },
        Path(filename),
    )


def load_checkpoint(model, optimizer, filename="checkpoint.pth"):
    path = Path(filename)
    if not path.is_file():
        print(f"WARNUNG: {path} existiert nicht, Neustart.", file=sys.stderr)
        return 0
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(checkpoint, dict):
            raise TypeError("kein Dictionary")
        model_backup = {key: value.clone() for key, value in model.state_dict().items()}
        try:
            model.load_state_dict(checkpoint["model_state_dict"])
            optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
        except Exception:
            model.load_state_dict(model_backup)
            raise
        return int(checkpoint["epoch"])
    except Exception as error:
        sys.stderr.write(f"WARNUNG: {path} unbrauchbar ({error!r}), Neustart.\n")
        return 0
