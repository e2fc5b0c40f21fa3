"""On-disk caches of detections and embeddings, keyed by everything that shapes them.

A rerun of `make bench-accuracy` then computes only what a change touched: a new
crop recipe re-embeds, a new face choice re-embeds only the photos whose chosen
face differs. `--no-cache` ignores them; `make clean-bench` deletes them.
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path
from typing import Any

CACHE = Path(__file__).resolve().parent / "cache"


def key(*parts: object) -> str:
    """A short file-name-safe digest of the parameters."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


class Store:
    """One pickled dict per key, loaded on first use and saved on demand."""

    def __init__(self, name: str, enabled: bool = True) -> None:
        self.path = CACHE / f"{name}.pkl"
        self.enabled = enabled
        self.data: dict[Any, Any] = {}
        if enabled and self.path.is_file():
            self.data = pickle.loads(self.path.read_bytes())
        self._dirty = False

    def __contains__(self, item: object) -> bool:
        return item in self.data

    def __getitem__(self, item: Any) -> Any:
        return self.data[item]

    def __setitem__(self, item: Any, value: Any) -> None:
        self.data[item] = value
        self._dirty = True

    def save(self) -> None:
        if self.enabled and self._dirty:
            CACHE.mkdir(exist_ok=True)
            partial = self.path.with_suffix(".tmp")
            partial.write_bytes(pickle.dumps(self.data, protocol=pickle.HIGHEST_PROTOCOL))
            partial.replace(self.path)
            self._dirty = False
