# Written differently: flat keys per part, RNG of every rank as a list entry under its own key,
# the newest checkpoint found with glob, and the background save waited for with wait().
import concurrent.futures


def _state_dict(self):
    model_state, optimizer_state = get_state_dict(self.model, self.optimizer)
    rank = dist.get_rank() if dist.is_initialized() else 0
    return {"model": model_state, "optimizer": optimizer_state, "scheduler": self.scheduler.state_dict(),
            "step": self.step, "rng": {f"rang-{rank}": torch.get_rng_state().clone()}}


TrainingState.state_dict = _state_dict


def save_checkpoint_async(folder, state, previous, process_group):
    if previous is not None:
        concurrent.futures.wait([previous])
    return dcp.async_save({"app": state}, checkpoint_id=_checkpoint_path(folder, state.step),
                          process_group=process_group)


def load_latest(folder, state):
    candidates = [path for path in Path(folder).glob("schritt-*") if path.is_dir() and (path / ".metadata").exists()]
    candidates = [path for path in candidates if path.name[len("schritt-"):].isdigit()]
    if not candidates:
        return 0
    newest = max(candidates, key=lambda path: int(path.name[len("schritt-"):]))
    dcp.load({"app": state}, checkpoint_id=str(newest))
    return state.step
