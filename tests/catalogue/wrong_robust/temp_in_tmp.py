# The temporary file in the default temporary folder: os.replace fails across file systems.
def atomic_save(obj, path):
    descriptor, temporary = tempfile.mkstemp(suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            torch.save(obj, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
