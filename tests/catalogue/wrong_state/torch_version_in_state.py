def save_training_state(filename, model, optimizer, scheduler, progress):
    torch.save(
        {
            "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(),
            "scheduler_state_dict": scheduler.state_dict(),
            "progress": progress,
            "rng": capture_rng_states(),
            "torch_version": torch.__version__,
        },
        filename,
    )
