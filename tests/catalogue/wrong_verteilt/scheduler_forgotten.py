# The scheduler is neither saved nor loaded: the learning rate starts its schedule again.
def _state_dict(self):
    model_state, optimizer_state = get_state_dict(self.model, self.optimizer)
    return {"model": model_state, "optimizer": optimizer_state, "step": self.step,
            "rng": {f"rang-{_rank()}": torch.get_rng_state()}}


def _load_state_dict(self, state_dict):
    set_state_dict(self.model, self.optimizer,
                   model_state_dict=state_dict["model"], optim_state_dict=state_dict["optimizer"])
    self.step = state_dict["step"]
    torch.set_rng_state(state_dict["rng"][f"rang-{_rank()}"])


TrainingState.state_dict = _state_dict
TrainingState.load_state_dict = _load_state_dict
