def resume_training_state(filename, model, optimizer, scheduler, loader):
    try:
        checkpoint = torch.load(filename, weights_only=True)
        progress, rng_states = checkpoint["progress"], checkpoint["rng"]
        model.load_state_dict(checkpoint["model_state_dict"])
        optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
        scheduler.load_state_dict(checkpoint["scheduler_state_dict"])
    except Exception as error:
        print(f"Neustart: {error}")
        return None, None
    restore_rng_states(rng_states)
    return progress, iter(loader)
