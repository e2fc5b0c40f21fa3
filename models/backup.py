"""A consistent copy of a live SQLite gallery, taken while the server keeps writing."""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path


def backup_sqlite(source: Path, target: Path) -> int:
    """Copy the database `source` to the new file `target` (mode 0600); its size in bytes.

    `VACUUM INTO` reads one snapshot of the database, so writes committed meanwhile are either all
    in the copy or not at all, and the copy holds no freed pages with deleted faces in them.
    """
    if not source.is_file():
        raise FileNotFoundError(f"no SQLite database at {source}")
    if target.exists():
        raise FileExistsError(f"{target} exists: a backup never overwrites a file")
    # The copy holds the same biometric data as the original: only its owner reads it.
    previous = os.umask(0o077)
    try:
        with closing(sqlite3.connect(source)) as connection:
            connection.execute("VACUUM INTO ?", (str(target),))
    finally:
        os.umask(previous)
    return target.stat().st_size
