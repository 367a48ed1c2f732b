# Removes "module." wherever it occurs in a key: "module.submodule.0.weight" becomes "sub0.weight".
def _matching_state(saved, expected):
    if saved.keys() == expected.keys():
        return saved
    renamed = {key.replace("module.", "").replace("_orig_mod.", ""): value for key, value in saved.items()}
    return renamed if renamed.keys() == expected.keys() else None
