"""SEARCH_BACKEND=pgvector: the search runs in PostgreSQL, so every replica sees every commit at once.

Exact search (the default of every field) reads the collection's rows (by the
(collection_id, model) index) ordered by Euclidean distance. `exact: false` uses an
HNSW index on cosine distance instead (for a collection over HNSW_MIN_FACES faces),
the same ranking for unit vectors (cosine distance = d^2 / 2), built per model on
`embedding::vector(d)` and limited to that model's rows, so that a table holding
several models' faces (of different dimensions) can still be indexed. Its recall
against exact search is measured in bench/results/scale.md.

Searches use a small asyncpg pool of their own: vectors travel in pgvector's
binary form, and the index's settings are fixed per connection at connect time
instead of costing a SET per query.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
import re
import time

import asyncpg
import numpy as np

from search.base import Replication
from search.postgres import asyncpg_dsn, register_vector, vectors_of
from search.ranking import Match, best_per_person

log = logging.getLogger(__name__)

COUNT_REFRESH_S = 2.0  # size() is a count kept this fresh; counting a million rows per request is too slow
# Rows asked of the index per person wanted, at first; more when a few persons' many faces crowd the top.
APPROXIMATE_POOL = 2
MAX_APPROXIMATE_ROWS = 20_000  # pgvector's hnsw.max_scan_tuples: an iterative scan stops there anyway
POOL_SIZE = 8
APPLICATION_NAME = "faceid-pgvector-search"


def index_name(model_id: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", model_id.lower()).strip("_")[:40]
    return f"face_hnsw_{slug}_{hashlib.sha256(model_id.encode()).hexdigest()[:6]}"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class PgvectorSearch:
    name = "pgvector"

    def __init__(self, url: str, model_id: str, dimension: int, ef_search: int, min_faces: int = 0) -> None:
        """min_faces (HNSW_MIN_FACES): a collection of at most this many faces is searched exactly even with
        `exact: false`. The one HNSW index spans every collection, and filtered to a small one it walks the
        others' rows to find its own (bench/results/collections.md: a 10k collection among 1M faces, exact
        7 ms p50 through the (collection_id, model) index, the filtered HNSW 84 ms)."""
        self.url = url
        self.model_id = model_id
        self.dimension = dimension
        self.ef_search = ef_search
        self.min_faces = min_faces
        self._pool: asyncpg.Pool | None = None
        self._counts: dict[str, tuple[int, int]] = {}  # collection id -> (faces, persons), COUNT_REFRESH_S fresh
        self._counter: asyncio.Task[None] | None = None
        # The model is part of the SQL text, not a parameter: only then can the planner
        # prove that a query's rows lie inside the index's partial `WHERE model = ...`.
        model, cast = _literal(model_id), f"vector({dimension})"
        self._where = f"model = {model}"
        distance = f"(embedding::{cast} <-> $1::{cast})"
        cosine = f"(embedding::{cast} <=> $1::{cast})"
        columns = "SELECT id::text, person_id::text"
        # The collection is a parameter: an exact search reads its rows through the (collection_id, model) index,
        # and the HNSW scan filters on it as it walks (iterative scan: it goes on until LIMIT rows pass).
        in_collection = f"collection_id = $3 AND {self._where}"
        self._exact_sql = f"{columns}, {distance} FROM face WHERE {in_collection} ORDER BY 3, 1 LIMIT $2"
        self._person_sql = (
            f"{columns}, {distance} FROM face WHERE person_id = $4 AND {in_collection} ORDER BY 3, 1 LIMIT $2"
        )
        self._approximate_sql = f"{columns}, {cosine} FROM face WHERE {in_collection} ORDER BY {cosine} LIMIT $2"
        self.index_sql = (
            f"CREATE INDEX IF NOT EXISTS {index_name(model_id)} ON face "
            f"USING hnsw ((embedding::{cast}) vector_cosine_ops) WHERE {self._where}"
        )

    async def start(self) -> None:
        """Connect, and build this model's HNSW index if it is missing (minutes for millions of faces; logged)."""
        self._pool = await asyncpg.create_pool(
            asyncpg_dsn(self.url),
            min_size=1,
            max_size=POOL_SIZE,
            init=register_vector,
            server_settings={
                "application_name": APPLICATION_NAME,
                "hnsw.ef_search": str(self.ef_search),
                # Keep walking the graph until LIMIT rows are found (pgvector 0.8), in roughly best-first order.
                "hnsw.iterative_scan": "relaxed_order",
            },
        )
        async with self._pool.acquire() as connection:
            if not await connection.fetchval("SELECT to_regclass($1) IS NOT NULL", index_name(self.model_id)):
                started = time.perf_counter()
                log.info("building the HNSW index %s for %s", index_name(self.model_id), self.model_id)
                await connection.execute(self.index_sql)
                log.info("HNSW index built in %.1f s", time.perf_counter() - started)
        await self._refresh_count()
        self._counter = asyncio.create_task(self._keep_counting(), name="pgvector-count")

    async def close(self) -> None:
        if self._counter is not None:
            self._counter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._counter
        if self._pool is not None:
            await self._pool.close()

    def lagging(self) -> str | None:
        return None  # the search runs in the database itself

    def replication(self) -> Replication | None:
        return None

    @property
    def pool(self) -> asyncpg.Pool:
        assert self._pool is not None, "PgvectorSearch.start() first"
        return self._pool

    async def _refresh_count(self) -> None:
        rows = await self.pool.fetch(
            f"SELECT collection_id::text, count(*), count(DISTINCT person_id) FROM face WHERE {self._where} "
            "GROUP BY collection_id"
        )
        self._counts = {row[0]: (int(row[1]), int(row[2])) for row in rows}

    async def _keep_counting(self) -> None:
        while True:
            await asyncio.sleep(COUNT_REFRESH_S)
            try:
                await self._refresh_count()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("could not count the stored faces: %s", exc)

    def _count(self, collection_id: str | None, which: int) -> int:
        if collection_id is None:
            return sum(counts[which] for counts in self._counts.values())
        return self._counts.get(collection_id, (0, 0))[which]

    async def size(self, collection_id: str | None = None) -> int:
        return self._count(collection_id, 0)

    async def persons(self, collection_id: str | None = None) -> int:
        return self._count(collection_id, 1)

    async def count_of(self, person_id: str, collection_id: str) -> int:
        return int(
            await self.pool.fetchval(
                f"SELECT count(*) FROM face WHERE person_id = $1 AND collection_id = $2 AND {self._where}",
                person_id,
                collection_id,
            )
        )

    async def sample(self, persons: int, faces_each: int, seed: int) -> tuple[np.ndarray, list[str]]:
        # Persons ordered by a hash of their id and the seed: a fixed, evenly spread draw without random().
        rows = await self.pool.fetch(
            f"""
            WITH chosen AS (
                SELECT person_id FROM face WHERE {self._where} GROUP BY person_id
                ORDER BY md5(person_id::text || $1) LIMIT $2
            ), ranked AS (
                SELECT f.person_id::text AS person, f.embedding,
                       row_number() OVER (PARTITION BY f.person_id ORDER BY f.id) AS n
                FROM face f JOIN chosen USING (person_id) WHERE f.{self._where}
            )
            SELECT person, embedding FROM ranked WHERE n <= $3
            """,
            str(seed),
            persons,
            faces_each,
        )
        return vectors_of([row[1] for row in rows], self.dimension), [row[0] for row in rows]

    @property
    def memory_bytes(self) -> int:
        return 0

    # The database is the index: a committed row is searchable by every replica at once.
    async def stored(self, face_id: str, person_id: str, collection_id: str, model: str, vector: np.ndarray) -> None:
        return None

    async def deleted(self, face_id: str) -> None:
        return None

    async def deleted_person(self, person_id: str, collection_id: str) -> None:
        return None

    async def deleted_collection(self, collection_id: str) -> None:
        return None

    async def recount(self) -> None:
        await self._refresh_count()

    async def search(
        self, query: np.ndarray, limit: int, collection_id: str, person_id: str | None = None, exact: bool = True
    ) -> list[Match]:
        vector = np.asarray(query, dtype="<f4").tobytes()
        if person_id is not None:
            rows = await self.pool.fetch(self._person_sql, vector, limit, collection_id, person_id)
            return [Match(row[0], row[1], float(row[2])) for row in rows]
        if exact or self._count(collection_id, 0) <= self.min_faces:
            return await self._exact(vector, limit, collection_id)
        return await self.approximate(vector, limit, collection_id)

    async def _exact(self, vector: bytes, limit: int, collection_id: str) -> list[Match]:
        """The nearest rows, widened until they hold `limit` persons (or every row): exact per person."""
        take = limit * 16
        while True:
            rows = await self.pool.fetch(self._exact_sql, vector, take, collection_id)
            matches = best_per_person((Match(row[0], row[1], float(row[2])) for row in rows), limit)
            if len(matches) == limit or len(rows) < take:
                return matches
            take *= 4

    async def approximate(self, vector: bytes, limit: int, collection_id: str) -> list[Match]:
        """The HNSW index's nearest rows (iterative scan), widened until they hold `limit` persons; best per person."""
        take = limit * APPROXIMATE_POOL
        while True:
            rows = await self.pool.fetch(self._approximate_sql, vector, take, collection_id)
            # Cosine distance c = 1 - cos = d^2 / 2 for unit vectors: report the Euclidean d like exact search.
            found = [Match(row[0], row[1], math.sqrt(max(2.0 * float(row[2]), 0.0))) for row in rows]
            found.sort(key=lambda match: (match.distance, match.face_id))  # relaxed_order: rows may come out of order
            matches = best_per_person(found, limit)
            if len(matches) == limit or len(rows) < take or take >= MAX_APPROXIMATE_ROWS:
                return matches
            take = min(take * 4, MAX_APPROXIMATE_ROWS)
