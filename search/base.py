"""The one interface every search backend offers the service (SEARCH_BACKEND picks one)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from search.ranking import Match


@dataclass(frozen=True)
class Replication:
    """How a copy kept in this process follows the database other replicas write (search/follower.py)."""

    connected: bool  # listening, and loaded since it connected
    backlog: int  # changes noticed and not yet applied
    loads: int  # full loads: 1 at start, +1 per reconnection


class FaceSearch(Protocol):
    """A searchable copy of the stored faces of one model, kept apart per collection.

    The database is the source of truth: resolvers commit a change first and then
    tell the backend (`stored`, `deleted`, `deleted_person`), so that this replica
    answers with its own writes at once. Backends that keep a copy also follow
    other replicas' changes themselves.
    """

    name: str  # "memory" or "pgvector", for /healthz and /metrics

    async def start(self) -> None:
        """Load or connect; the server answers only once this returns."""
        ...

    async def close(self) -> None: ...

    def lagging(self) -> str | None:
        """Why this copy may be behind the database now (a follower reconnecting); None when it is not."""
        ...

    def replication(self) -> Replication | None:
        """How this copy follows other replicas' writes; None when it needs not (SQLite, or the search runs in
        the database)."""
        ...

    async def size(self, collection_id: str | None = None) -> int:
        """Faces of this model that a 1:K search in the collection compares (None: in every collection)."""
        ...

    async def persons(self, collection_id: str | None = None) -> int:
        """Persons with a face of this model in the collection (None: in every one): how many a 1:K search
        compares the probe with."""
        ...

    async def count_of(self, person_id: str, collection_id: str) -> int:
        """The person's faces of this model."""
        ...

    async def sample(self, persons: int, faces_each: int, seed: int) -> tuple[np.ndarray, list[str]]:
        """Up to `faces_each` faces of each of up to `persons` persons of every collection drawn at random (the
        same for the same seed and gallery): their vectors and their persons' ids, for the gallery's calibration."""
        ...

    @property
    def memory_bytes(self) -> int:
        """Memory this process holds for vectors (0 when they live in the database)."""
        ...

    async def stored(self, face_id: str, person_id: str, collection_id: str, model: str, vector: np.ndarray) -> None:
        """A face was committed (new, moved or re-embedded); faces of other models are ignored."""
        ...

    async def deleted(self, face_id: str) -> None: ...

    async def deleted_person(self, person_id: str, collection_id: str) -> None: ...

    async def deleted_collection(self, collection_id: str) -> None: ...

    async def recount(self) -> None:
        """A collection changed wholesale (reembedCollection switched its model): counts kept aside are read
        again now, not at their next refresh."""
        ...

    async def search(
        self, query: np.ndarray, limit: int, collection_id: str, person_id: str | None = None, exact: bool = True
    ) -> list[Match]:
        """The nearest face of each of the `limit` nearest persons of the collection (or of one person's faces),
        nearest first. Nothing of another collection is ever compared.

        exact=False lets a backend with an approximate index use it; the others search exactly.
        """
        ...
