# Keeps a backup and restores it after an exception: a killed process leaves a half-written file.
import shutil


def atomic_save(obj, path):
    backup = f"{os.fspath(path)}.bak"
    had_file = os.path.exists(path)
    if had_file:
        shutil.copyfile(path, backup)
    try:
        torch.save(obj, path)
    except BaseException:
        if had_file:
            shutil.copyfile(backup, path)
        raise
    finally:
        if had_file:
            os.remove(backup)
