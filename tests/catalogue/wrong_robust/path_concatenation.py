# Builds the temporary name with "+": fine for a str, a TypeError for a pathlib.Path.
def atomic_save(obj, path):
    temporary = path + ".tmp"
    try:
        with open(temporary, "wb") as file:
            torch.save(obj, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
