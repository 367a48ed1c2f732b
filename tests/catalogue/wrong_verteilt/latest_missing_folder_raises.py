# Lists the folder without checking that it exists: a first start without checkpoints fails.
def load_latest(folder, state):
    complete = sorted((int(match.group(1)), path) for path in Path(folder).iterdir()
                      if (match := _NAME.fullmatch(path.name)) and (path / ".metadata").is_file())
    if not complete:
        return 0
    dcp.load({"app": state}, checkpoint_id=complete[-1][1])
    return state.step
