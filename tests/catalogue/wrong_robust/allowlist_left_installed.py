# Allows the NumPy types of lesson 2 for the whole process instead of for one load.
import numpy as np


def safe_load(model, optimizer, path, map_location="cpu", _safe_load=safe_load):
    torch.serialization.add_safe_globals([np.ndarray, np.dtype, type(np.dtype("uint32"))])
    return _safe_load(model, optimizer, path, map_location)
