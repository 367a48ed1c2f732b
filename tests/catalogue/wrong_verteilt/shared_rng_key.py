# One key for the generator state of every rank: DCP writes one value for all ranks, so after
# loading every rank draws what one of them would have drawn.
def _state_dict(self):
    model_state, optimizer_state = get_state_dict(self.model, self.optimizer)
    return {"model": model_state, "optimizer": optimizer_state, "scheduler": self.scheduler.state_dict(),
            "step": self.step, "rng": torch.get_rng_state()}


def _load_state_dict(self, state_dict):
    set_state_dict(self.model, self.optimizer,
                   model_state_dict=state_dict["model"], optim_state_dict=state_dict["optimizer"])
    self.scheduler.load_state_dict(state_dict["scheduler"])
    self.step = state_dict["step"]
    torch.set_rng_state(state_dict["rng"])


TrainingState.state_dict = _state_dict
TrainingState.load_state_dict = _load_state_dict
