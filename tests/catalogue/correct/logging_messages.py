import logging

logging.basicConfig(level=logging.INFO)
log = logging.getLogger("checkpoints")


def load_checkpoint(model, optimizer, filename="checkpoint.pth"):
    try:
        state = torch.load(filename, weights_only=True)
        epoch = state["epoch"]
        model.load_state_dict(state["model_state_dict"])
        optimizer.load_state_dict(state["optimizer_state_dict"])
    except FileNotFoundError:
        log.info("Noch kein Checkpoint vorhanden.")
        return 0
    except Exception:
        log.exception("Checkpoint kaputt, beginne neu")
        return 0
    log.info("Fortsetzung nach Epoche %d", epoch)
    return epoch
