# Takes the highest step number without checking for .metadata: an unfinished save is loaded.
def load_latest(folder, state):
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    steps = sorted((int(match.group(1)), path) for path in folder.iterdir() if (match := _NAME.fullmatch(path.name)))
    if not steps:
        return 0
    dcp.load({"app": state}, checkpoint_id=steps[-1][1])
    return state.step
