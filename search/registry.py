"""The search backends by name (SEARCH_BACKEND): settings.py accepts these names, services.py builds from them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from search.base import FaceSearch
from search.memory import MemorySearch
from search.pgvector import PgvectorSearch


@dataclass(frozen=True)
class SearchPlace:
    """What a backend is built from: the model whose faces it searches, and the database they are stored in."""

    model_id: str
    dimension: int
    database_url: str  # as the settings resolved it (an SQLite file, or PostgreSQL)
    on_postgres: bool
    hnsw_ef_search: int
    hnsw_min_faces: int  # a smaller collection is searched exactly even with `exact: false`


@dataclass(frozen=True)
class Backend:
    build: Callable[[SearchPlace], FaceSearch]
    needs_postgres: bool


def _memory(place: SearchPlace) -> FaceSearch:
    # On PostgreSQL other replicas write too: the in-memory copy follows their changes.
    return MemorySearch(place.model_id, place.dimension, follow_url=place.database_url if place.on_postgres else None)


def _pgvector(place: SearchPlace) -> FaceSearch:
    return PgvectorSearch(
        place.database_url, place.model_id, place.dimension, place.hnsw_ef_search, place.hnsw_min_faces
    )


SEARCH_BACKENDS: dict[str, Backend] = {
    "memory": Backend(_memory, needs_postgres=False),  # exact search over a matrix in this process
    "pgvector": Backend(_pgvector, needs_postgres=True),  # the search runs in PostgreSQL, exact or HNSW
}
DEFAULT_SEARCH_BACKEND = "memory"
