# Writes the checkpoint straight to its final name: a save that breaks off leaves a half file behind.
def _atomic_save(obj, path):
    torch.save(obj, path)
