# dist.get_rank() without a fallback: loading in a single process (without a process group) fails.
def _state_dict(self):
    model_state, optimizer_state = get_state_dict(self.model, self.optimizer)
    return {"model": model_state, "optimizer": optimizer_state, "scheduler": self.scheduler.state_dict(),
            "step": self.step, "rng": {f"rang-{dist.get_rank()}": torch.get_rng_state()}}


def _load_state_dict(self, state_dict):
    set_state_dict(self.model, self.optimizer,
                   model_state_dict=state_dict["model"], optim_state_dict=state_dict["optimizer"])
    self.scheduler.load_state_dict(state_dict["scheduler"])
    self.step = state_dict["step"]
    torch.set_rng_state(state_dict["rng"][f"rang-{dist.get_rank()}"])


TrainingState.state_dict = _state_dict
TrainingState.load_state_dict = _load_state_dict
