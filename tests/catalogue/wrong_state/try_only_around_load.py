def resume_training_state(filename, model, optimizer, scheduler, loader):
    try:
        checkpoint = torch.load(filename, weights_only=True)
    except Exception as error:
        print(f"Kein brauchbarer Checkpoint ({error}), Neustart.")
        return None, None
    progress, rng_states = checkpoint["progress"], checkpoint["rng"]
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    scheduler.load_state_dict(checkpoint["scheduler_state_dict"])
    if progress["batch"] == 0:
        restore_rng_states(rng_states)
        return progress, iter(loader)
    torch.set_rng_state(progress["loader_rng_state"])
    batches = iter(loader)
    for _ in range(progress["batch"]):
        next(batches)
    restore_rng_states(rng_states)
    return progress, batches
