#!/usr/bin/env bash
# Gradescope: richtet den Autograder einmalig ein (Basis-Image Ubuntu 24.04 mit Python 3.12).
set -euo pipefail
apt-get update
apt-get install -y python3 python3-venv bubblewrap
cd /autograder/source
python3 -m venv .venv
# Der CPU-Index von PyTorch liefert torch==2.13.0 ohne die mehrere GB großen CUDA-Bibliotheken.
.venv/bin/pip install --extra-index-url https://download.pytorch.org/whl/cpu -r requirements.txt
