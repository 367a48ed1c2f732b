# model.state_dict() and optimizer.state_dict() directly: the optimizer's state is keyed by
# numbers, and a freshly built optimizer has no state yet, so dcp.load has nothing to fill.
def _state_dict(self):
    return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(), "step": self.step,
            "rng": {f"rang-{_rank()}": torch.get_rng_state()}}


def _load_state_dict(self, state_dict):
    self.model.load_state_dict(state_dict["model"])
    self.optimizer.load_state_dict(state_dict["optimizer"])
    self.scheduler.load_state_dict(state_dict["scheduler"])
    self.step = state_dict["step"]
    torch.set_rng_state(state_dict["rng"][f"rang-{_rank()}"])


TrainingState.state_dict = _state_dict
TrainingState.load_state_dict = _load_state_dict
