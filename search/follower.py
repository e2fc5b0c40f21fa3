"""Keeps one replica's in-memory gallery in step with a PostgreSQL database that others write too.

A trigger on `face` (migrations/models/0_*_init.py) sends 'U <id> <model>' or
'D <id> <model>' on the channel `faceid_faces` when a change commits. The follower
LISTENs on a connection of its own, then loads the whole gallery, so that no change
falls between the load and the first notice. Each notice only says which face
changed: the follower reads that face's row as it is now (batched), so notices
that arrive late or twice do no harm. When the connection is lost, notices are
lost with it: the follower reconnects and loads everything again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Protocol

import asyncpg

from search.galleries import Galleries
from search.postgres import connect, vectors_of

log = logging.getLogger(__name__)

CHANNEL = "faceid_faces"
PING_EVERY_S = 5.0  # an idle connection is checked this often, so a silent loss is found
RETRY_S = (0.2, 0.5, 1.0, 2.0, 5.0)  # waits between reconnection attempts, the last one repeated
LOAD_CHUNK = 50_000
LOST = "lost"  # queued when the connection closes
APPLICATION_NAME = "faceid-gallery-follower"  # in pg_stat_activity


class FollowedCopy(Protocol):
    """A backend that keeps its own copy of the gallery, and the follower keeps in step (search/memory.py is one)."""

    @property
    def gallery(self) -> Galleries:
        """The copy now searched; changes are applied to it in place."""
        ...

    def replace(self, gallery: Galleries) -> None:
        """Swap in a whole gallery just loaded."""
        ...

    def deleted_here(self, face_id: str) -> bool:
        """Whether this replica deleted the face lately (a read from before that delete must not bring it back)."""
        ...


class ChangeFollower:
    def __init__(self, url: str, model_id: str, dimension: int, target: FollowedCopy) -> None:
        self.url = url
        self.model_id = model_id
        self.dimension = dimension
        self.target = target
        self.loads = 0  # full loads so far: 1 after start, +1 per reconnection
        self._changed: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._connection: asyncpg.Connection | None = None
        self._loaded = False  # this connection's load is done

    @property
    def listening(self) -> bool:
        """Connected and loaded: every committed change reaches the copy (a lost connection reloads it all)."""
        return self._connection is not None and not self._connection.is_closed() and self._loaded

    @property
    def backlog(self) -> int:
        """Changes noticed and not yet applied."""
        return self._changed.qsize()

    async def start(self) -> None:
        """Connect, listen and load; the first failure is raised (the server does not start on it)."""
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._follow(ready), name="gallery-follower")
        await ready

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._connection is not None and not self._connection.is_closed():
            await self._connection.close()

    async def _follow(self, ready: asyncio.Future[None]) -> None:
        attempt = 0
        while True:
            loads = self.loads
            try:
                await self._session(ready)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                if not ready.done():
                    ready.set_exception(exc)
                    return
                log.warning("gallery follower lost PostgreSQL (%s); reconnecting", exc)
            attempt = 0 if self.loads > loads else attempt + 1  # a session that loaded resets the back-off
            await asyncio.sleep(RETRY_S[min(attempt, len(RETRY_S) - 1)])

    async def _session(self, ready: asyncio.Future[None]) -> None:
        """One connection's life: listen, load everything, then apply changes until it is lost."""
        self._connection = connection = await connect(self.url, APPLICATION_NAME)
        self._loaded = False
        try:
            self._changed = asyncio.Queue()  # notices of a lost connection are covered by the reload
            connection.add_termination_listener(lambda _: self._changed.put_nowait((LOST, "")))
            await connection.add_listener(CHANNEL, self._notice)
            self.target.replace(await self._load(connection))
            self._loaded = True
            self.loads += 1
            if not ready.done():
                ready.set_result(None)
            while True:
                try:
                    first = await asyncio.wait_for(self._changed.get(), PING_EVERY_S)
                except TimeoutError:
                    await connection.fetchval("SELECT 1", timeout=PING_EVERY_S)
                    continue
                changes = [first, *self._drain()]
                if any(operation == LOST for operation, _ in changes):
                    raise ConnectionError("the listening connection was closed")
                await self._apply(connection, changes)
        finally:
            if not connection.is_closed():
                connection.terminate()
            self._connection = None

    def _notice(self, connection: object, pid: int, channel: str, payload: str) -> None:
        operation, face_id, model = payload.split(" ", 2)
        if model == self.model_id:
            self._changed.put_nowait((operation, face_id))
        elif operation == "U":  # re-embedded by another model (reembedCollection): no longer this model's
            self._changed.put_nowait(("D", face_id))

    def _drain(self) -> list[tuple[str, str]]:
        changes = []
        while not self._changed.empty():
            changes.append(self._changed.get_nowait())
        return changes

    async def _apply(self, connection: asyncpg.Connection, changes: list[tuple[str, str]]) -> None:
        """Bring the named faces to their state in the database now."""
        gallery = self.target.gallery
        wanted = {face_id for operation, face_id in changes if operation == "U"}
        for operation, face_id in changes:
            if operation == "D":
                gallery.remove(face_id)
        if not wanted:
            return
        rows = await connection.fetch(
            "SELECT id::text, person_id::text, collection_id::text, embedding FROM face "
            "WHERE id = ANY($1::uuid[]) AND model = $2",
            list(wanted),
            self.model_id,
        )
        found = set()
        if rows:
            vectors = vectors_of([row[3] for row in rows], self.dimension)
            for row, vector in zip(rows, vectors, strict=True):
                found.add(row[0])
                if not self.target.deleted_here(row[0]):
                    gallery.upsert(row[0], row[1], row[2], vector)
        for face_id in wanted - found:  # changed, then deleted (or re-embedded by another model) before we read it
            gallery.remove(face_id)

    async def _load(self, connection: asyncpg.Connection) -> Galleries:
        """Every face of the model, in one transaction (one consistent snapshot), read in chunks."""
        started = time.perf_counter()
        gallery = Galleries(self.dimension)
        async with connection.transaction(isolation="repeatable_read", readonly=True):
            sizes = await connection.fetch(
                "SELECT collection_id::text, count(*) FROM face WHERE model = $1 GROUP BY collection_id", self.model_id
            )
            gallery.reserve({row[0]: int(row[1]) for row in sizes})
            cursor = connection.cursor(
                "SELECT id::text, person_id::text, collection_id::text, embedding FROM face WHERE model = $1",
                self.model_id,
                prefetch=LOAD_CHUNK,
            )
            rows: list[asyncpg.Record] = []
            async for row in cursor:
                rows.append(row)
                if len(rows) == LOAD_CHUNK:
                    self._extend(gallery, rows)
                    rows = []
            self._extend(gallery, rows)
        log.info("gallery: %d faces loaded from PostgreSQL in %.2f s", len(gallery), time.perf_counter() - started)
        return gallery

    def _extend(self, gallery: Galleries, rows: list[asyncpg.Record]) -> None:
        if rows:
            vectors = vectors_of([row[3] for row in rows], self.dimension)
            gallery.extend([row[0] for row in rows], [row[1] for row in rows], [row[2] for row in rows], vectors)
