"""Every loaded model's search backend together: a collection is searched by its own model's.

Embeddings of different models are never compared, so each model has a backend of its own (a matrix
per collection, or its own HNSW index). Writes name the model they stored under; deletions reach
every backend, since the caller need not know which model a face was stored under.
"""

from __future__ import annotations

import numpy as np

from search.base import FaceSearch, Replication


class ModelSearches:
    def __init__(self, backends: dict[str, FaceSearch]) -> None:
        """`backends` by model id, the default model's first."""
        self._backends = backends

    @property
    def name(self) -> str:
        return next(iter(self._backends.values())).name

    def of(self, model_id: str) -> FaceSearch:
        return self._backends[model_id]

    def __contains__(self, model_id: object) -> bool:
        return model_id in self._backends

    async def start(self) -> None:
        for backend in self._backends.values():
            await backend.start()

    async def close(self) -> None:
        for backend in self._backends.values():
            await backend.close()

    def lagging(self) -> str | None:
        """Why some model's copy may be behind the database; None when none is."""
        return next((reason for backend in self._backends.values() if (reason := backend.lagging())), None)

    def replication(self) -> dict[str, Replication]:
        """Each model's copy that follows other replicas' writes, by model id."""
        return {model: state for model, backend in self._backends.items() if (state := backend.replication())}

    async def size(self, collection_id: str | None = None) -> int:
        """Faces searchable by their model (in the collection, or in every one)."""
        return sum([await backend.size(collection_id) for backend in self._backends.values()])

    @property
    def memory_bytes(self) -> int:
        return sum(backend.memory_bytes for backend in self._backends.values())

    async def stored(self, face_id: str, person_id: str, collection_id: str, model: str, vector: np.ndarray) -> None:
        """A face was committed under `model`; a model this server has not loaded searches nothing of it."""
        if model in self._backends:
            await self._backends[model].stored(face_id, person_id, collection_id, model, vector)

    async def moved(
        self, face_id: str, person_id: str, collection_id: str, old: str, new: str, vector: np.ndarray
    ) -> None:
        """A face was changed, maybe re-embedded from model `old` to `new`: it leaves the one and joins the other."""
        if old != new and old in self._backends:
            await self._backends[old].deleted(face_id)
        await self.stored(face_id, person_id, collection_id, new, vector)

    async def deleted(self, face_id: str) -> None:
        for backend in self._backends.values():
            await backend.deleted(face_id)

    async def deleted_person(self, person_id: str, collection_id: str) -> None:
        for backend in self._backends.values():
            await backend.deleted_person(person_id, collection_id)

    async def deleted_collection(self, collection_id: str) -> None:
        for backend in self._backends.values():
            await backend.deleted_collection(collection_id)

    async def recount(self) -> None:
        for backend in self._backends.values():
            await backend.recount()
