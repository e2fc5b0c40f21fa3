"""SEARCH_BACKEND=memory: exact search over in-memory matrices of the stored faces, one per collection
(search/galleries.py).

On SQLite one process owns the file, so the copy loaded at start-up plus this
process's own writes is complete. On PostgreSQL other replicas write too: a
follower (search/follower.py) keeps the copy in step with every committed change.
"""

from __future__ import annotations

import asyncio
import logging
import time

import numpy as np
from tortoise.functions import Count

from models import Face
from search.base import Replication
from search.follower import ChangeFollower
from search.galleries import Galleries
from search.ranking import Match

log = logging.getLogger(__name__)

LOAD_CHUNK = 20_000  # rows per read while loading
TOMBSTONE_S = 60.0  # how long a face deleted here stays barred from the follower's late reads


class MemorySearch:
    name = "memory"

    def __init__(self, model_id: str, dimension: int, follow_url: str | None = None) -> None:
        """follow_url: a PostgreSQL database whose changes by other replicas are followed."""
        self.model_id = model_id
        self.gallery = Galleries(dimension)
        self._deleted_here: dict[str, float] = {}  # face id -> when this replica deleted it
        self._follower = None if follow_url is None else ChangeFollower(follow_url, model_id, dimension, self)

    async def start(self) -> None:
        if self._follower is not None:
            await self._follower.start()  # loads the gallery once it listens, so no change slips between
        else:
            self.replace(await load_with_orm(self.model_id, self.gallery.dimension))
        await warn_about_other_models(self.model_id)

    async def close(self) -> None:
        if self._follower is not None:
            await self._follower.close()

    def lagging(self) -> str | None:
        state = self.replication()
        if state is not None and not state.connected:
            return f"the {self.model_id} gallery follower has lost PostgreSQL and is reconnecting"
        return None

    def replication(self) -> Replication | None:
        follower = self._follower
        return None if follower is None else Replication(follower.listening, follower.backlog, follower.loads)

    def replace(self, gallery: Galleries) -> None:
        """Swap in a freshly loaded gallery (searches in flight finish on the old one)."""
        self.gallery = gallery

    async def size(self, collection_id: str | None = None) -> int:
        if collection_id is None:
            return len(self.gallery)
        gallery = self.gallery.of(collection_id)
        return 0 if gallery is None else len(gallery)

    async def persons(self, collection_id: str | None = None) -> int:
        if collection_id is None:
            return self.gallery.persons
        gallery = self.gallery.of(collection_id)
        return 0 if gallery is None else gallery.persons

    async def count_of(self, person_id: str, collection_id: str) -> int:
        return len(self.gallery.faces_of(person_id, collection_id))

    async def sample(self, persons: int, faces_each: int, seed: int) -> tuple[np.ndarray, list[str]]:
        return await asyncio.to_thread(self.gallery.sample, persons, faces_each, seed)

    @property
    def memory_bytes(self) -> int:
        return self.gallery.nbytes

    async def stored(self, face_id: str, person_id: str, collection_id: str, model: str, vector: np.ndarray) -> None:
        if model == self.model_id:
            self._deleted_here.pop(face_id, None)  # restoreFace may bring an id back
            self.gallery.upsert(face_id, person_id, collection_id, vector)

    async def deleted(self, face_id: str) -> None:
        self._mark_deleted([face_id])
        self.gallery.remove(face_id)

    async def deleted_person(self, person_id: str, collection_id: str) -> None:
        self._mark_deleted(self.gallery.faces_of(person_id, collection_id))
        self.gallery.remove_person(person_id, collection_id)

    async def deleted_collection(self, collection_id: str) -> None:
        gallery = self.gallery.of(collection_id)
        self._mark_deleted([] if gallery is None else gallery.face_ids())
        self.gallery.remove_collection(collection_id)

    async def recount(self) -> None:
        return None  # the matrices are their own counts

    def _mark_deleted(self, face_ids: list[str]) -> None:
        if self._follower is None:
            return
        now = time.monotonic()
        for face_id, when in list(self._deleted_here.items()):
            if now - when > TOMBSTONE_S:
                del self._deleted_here[face_id]
        self._deleted_here.update(dict.fromkeys(face_ids, now))

    def deleted_here(self, face_id: str) -> bool:
        """Deleted by this replica lately: a follower's read from before that delete must not bring it back."""
        return face_id in self._deleted_here

    async def search(
        self, query: np.ndarray, limit: int, collection_id: str, person_id: str | None = None, exact: bool = True
    ) -> list[Match]:
        gallery = self.gallery.of(collection_id)
        if gallery is None:
            return []
        return await asyncio.to_thread(gallery.search, query, limit, person_id)


async def load_with_orm(model_id: str, dimension: int) -> Galleries:
    """Every stored face of this model, read through the ORM in chunks (keyset on id) into a matrix per collection."""
    started = time.perf_counter()
    faces = Face.filter(model=model_id)
    gallery = Galleries(dimension)
    sizes = await faces.annotate(n=Count("id")).group_by("collection_id").values_list("collection_id", "n")
    gallery.reserve({str(collection): n for collection, n in sizes})
    last_id = None
    while True:
        page = faces if last_id is None else faces.filter(id__gt=last_id)
        rows = await page.order_by("id").limit(LOAD_CHUNK).values_list("id", "person_id", "collection_id", "embedding")
        if not rows:
            break
        vectors = np.frombuffer(b"".join(row[3] for row in rows), dtype="<f4")
        gallery.extend(
            [str(row[0]) for row in rows], [str(row[1]) for row in rows], [str(row[2]) for row in rows], vectors
        )
        last_id = rows[-1][0]
    log.info("gallery: %d faces loaded in %.2f s", len(gallery), time.perf_counter() - started)
    return gallery


async def warn_about_other_models(model_id: str) -> None:
    if others := await Face.exclude(model=model_id).count():
        log.warning(
            "%d stored faces belong to other models and are not searched by %s: `faceid reembed` carries them "
            "over from their crops (or run the server with the EMBEDDER and FACE_DETECTOR that made them)",
            others,
            model_id,
        )
