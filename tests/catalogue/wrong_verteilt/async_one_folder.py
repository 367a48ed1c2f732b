# Every background save goes into the same folder: a crash during a save leaves no complete one.
def save_checkpoint_async(folder, state, previous, process_group):
    if previous is not None:
        previous.result()
    return dcp.async_save({"app": state}, checkpoint_id=Path(folder) / "hintergrund", process_group=process_group)
