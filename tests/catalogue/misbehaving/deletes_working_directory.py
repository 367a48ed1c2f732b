import os
import shutil

for entry in os.listdir("."):
    shutil.rmtree(entry, ignore_errors=True) if os.path.isdir(entry) else os.remove(entry)
with open("muell.txt", "w") as junk:
    junk.write("Müll\n")
