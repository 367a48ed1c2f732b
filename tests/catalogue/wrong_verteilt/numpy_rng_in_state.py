# Also saves NumPy's generator state as it is (a tuple with an array): DCP pickles it, but the
# converted file no longer loads with weights_only=True.
import numpy as np

_reference_state_dict = TrainingState.state_dict


def _state_dict(self):
    return {**_reference_state_dict(self), "numpy": np.random.get_state()}


TrainingState.state_dict = _state_dict
