# Strips the prefix whenever every key has it, before comparing with the model: a genuine module is renamed.
def _matching_state(saved, expected):
    for prefix in ("module.", "_orig_mod."):
        if saved and all(key.startswith(prefix) for key in saved):
            saved = {key[len(prefix):]: value for key, value in saved.items()}
    return saved if saved.keys() == expected.keys() else None
