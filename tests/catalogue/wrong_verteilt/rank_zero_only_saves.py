# Only rank 0 saves (without the others, no_dist=True): the checkpoint holds rank 0's shards only.
def save_checkpoint(folder, state):
    if _rank() == 0:
        dcp.save({"app": state}, checkpoint_id=_checkpoint_path(folder, state.step), no_dist=True)
