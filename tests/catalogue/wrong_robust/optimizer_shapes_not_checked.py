# Checks the optimizer's parameter groups but not the shapes of its state, which torch does not check either:
# the bad state is loaded silently (no message, no None) and would fail at the next step.
def _optimizer_problem(saved, optimizer):
    if not isinstance(saved, dict) or not {"state", "param_groups"} <= saved.keys():
        return "'optimizer_state_dict' hat nicht die Schlüssel 'state' und 'param_groups'."
    if [len(group["params"]) for group in saved["param_groups"]] != [len(group["params"]) for group in optimizer.param_groups]:
        return "Die Parametergruppen des Optimierers passen nicht."
    return None
