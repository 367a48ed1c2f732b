# Waits, but sends the background save over the training's own (default) process group.
def save_checkpoint_async(folder, state, previous, process_group):
    if previous is not None:
        previous.result()
    return dcp.async_save({"app": state}, checkpoint_id=_checkpoint_path(folder, state.step))
