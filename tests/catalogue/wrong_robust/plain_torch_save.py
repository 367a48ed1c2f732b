# Writes straight to the target: a failed write destroys the old checkpoint.
def atomic_save(obj, path):
    torch.save(obj, path)
