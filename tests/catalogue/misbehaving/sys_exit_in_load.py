import sys


def load_checkpoint(model, optimizer, filename="checkpoint.pth"):
    sys.exit(0)
