# Starts a new background save without waiting for the previous one.
def save_checkpoint_async(folder, state, previous, process_group):
    return dcp.async_save({"app": state}, checkpoint_id=_checkpoint_path(folder, state.step),
                          process_group=process_group)
