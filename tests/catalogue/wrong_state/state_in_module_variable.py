import copy

# Hält den Zustand zwischen Speichern und Fortsetzen im Speicher des Prozesses – in einem neuen
# Prozess ist davon nichts mehr da.
_MERKER = {}


def save_training_state(filename, model, optimizer, scheduler, progress):
    _MERKER.update(model=copy.deepcopy(model.state_dict()), optimizer=copy.deepcopy(optimizer.state_dict()),
                   scheduler=copy.deepcopy(scheduler.state_dict()), progress=copy.deepcopy(progress),
                   rng=capture_rng_states())
    torch.save({"model_state_dict": model.state_dict(), "optimizer_state_dict": optimizer.state_dict(),
                "scheduler_state_dict": scheduler.state_dict(), "progress": progress, "rng": capture_rng_states()},
               filename)


def resume_training_state(filename, model, optimizer, scheduler, loader):
    try:
        torch.load(filename, weights_only=True)
    except Exception as error:
        print(f"Kein brauchbarer Checkpoint ({error}), Neustart.")
        return None, None
    if not _MERKER:
        print("Nichts im Speicher, Neustart.")
        return None, None
    model.load_state_dict(_MERKER["model"])
    optimizer.load_state_dict(_MERKER["optimizer"])
    scheduler.load_state_dict(_MERKER["scheduler"])
    restore_rng_states(_MERKER["rng"])
    return _MERKER["progress"], iter(loader)
