# The temporary file in the default temporary folder, moved with shutil.move: across file systems that
# copies into the old file, which a crash then destroys.
import shutil


def atomic_save(obj, path):
    descriptor, temporary = tempfile.mkstemp(suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            torch.save(obj, file)
        shutil.move(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
