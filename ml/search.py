"""The search interface: what the service needs of any store of embeddings it searches.

ml.gallery.Gallery (exact search over one in-memory matrix) is today's only
implementation; a database-backed one (pgvector) plugs in behind the same methods.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from ml.gallery import Match


class FaceIndex(Protocol):
    def __len__(self) -> int: ...

    @property
    def nbytes(self) -> int:
        """Memory the index holds for vectors (0 if they live elsewhere)."""
        ...

    def count_of(self, person_id: str) -> int:
        """How many faces the person has in the index."""
        ...

    def upsert(self, face_id: str, person_id: str, vector: np.ndarray) -> None:
        """Add a face, or replace its vector and owner."""
        ...

    def remove(self, face_id: str) -> None: ...

    def remove_person(self, person_id: str) -> None: ...

    def search(self, query: np.ndarray, limit: int, person_id: str | None = None) -> list[Match]:
        """The nearest face of each of the `limit` nearest persons (or of one person's faces), nearest first."""
        ...
