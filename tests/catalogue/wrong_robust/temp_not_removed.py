# Atomic, but a failed write leaves its temporary file behind.
def atomic_save(obj, path):
    path = os.path.abspath(os.fspath(path))
    descriptor, temporary = tempfile.mkstemp(dir=os.path.dirname(path))
    with os.fdopen(descriptor, "wb") as file:
        torch.save(obj, file)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
