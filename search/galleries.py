"""The memory backend's copy of the stored faces: one Gallery (matrix) per collection.

A 1:K search in a collection is one matrix product over that collection's rows only,
so it costs what a gallery of that size alone costs, whatever else the server holds.
"""

from __future__ import annotations

import threading
from collections import defaultdict

import numpy as np

from search.gallery import Gallery

NEW_GALLERY_ROWS = 16  # a collection's first matrix: it doubles as it fills, and thousands of small ones stay small


class Galleries:
    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self._by_collection: dict[str, Gallery] = {}
        self._collection_of: dict[str, str] = {}  # face id -> its collection
        self._lock = threading.RLock()  # the two maps; each gallery guards its own rows

    def __len__(self) -> int:
        return len(self._collection_of)

    def __contains__(self, face_id: str) -> bool:
        return face_id in self._collection_of

    @property
    def nbytes(self) -> int:
        return sum(gallery.nbytes for gallery in list(self._by_collection.values()))

    @property
    def persons(self) -> int:
        """Persons with a face here, in every collection."""
        return sum(gallery.persons for gallery in list(self._by_collection.values()))

    def of(self, collection_id: str) -> Gallery | None:
        """The collection's gallery; None while it holds no face."""
        return self._by_collection.get(collection_id)

    def person_of(self, face_id: str) -> str | None:
        collection = self._collection_of.get(face_id)
        return None if collection is None else self._by_collection[collection].person_of(face_id)

    def vector(self, face_id: str) -> np.ndarray:
        return self._by_collection[self._collection_of[face_id]].vector(face_id)

    def _gallery(self, collection_id: str, rows: int = NEW_GALLERY_ROWS) -> Gallery:
        with self._lock:
            gallery = self._by_collection.get(collection_id)
            if gallery is None:
                gallery = self._by_collection[collection_id] = Gallery(self.dimension, capacity=max(rows, 1))
            return gallery

    def reserve(self, sizes: dict[str, int]) -> None:
        """Make room for each collection's faces, so that a bulk load copies each matrix once."""
        for collection_id, rows in sizes.items():
            self._gallery(collection_id, rows).reserve(rows)

    def extend(
        self, face_ids: list[str], person_ids: list[str], collection_ids: list[str], vectors: np.ndarray
    ) -> None:
        """Append many new faces at once (start-up), each to its collection's gallery."""
        vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, self.dimension)
        rows_of: dict[str, list[int]] = defaultdict(list)
        for row, collection_id in enumerate(collection_ids):
            rows_of[collection_id].append(row)
        with self._lock:
            for collection_id, rows in rows_of.items():
                self._gallery(collection_id, len(rows)).extend(
                    [face_ids[row] for row in rows], [person_ids[row] for row in rows], vectors[rows]
                )
                self._collection_of.update(dict.fromkeys((face_ids[row] for row in rows), collection_id))

    def upsert(self, face_id: str, person_id: str, collection_id: str, vector: np.ndarray) -> None:
        """Add a face, or replace its vector, owner and collection."""
        with self._lock:
            before = self._collection_of.get(face_id)
            if before is not None and before != collection_id:
                self.remove(face_id)
            self._gallery(collection_id).upsert(face_id, person_id, vector)
            self._collection_of[face_id] = collection_id

    def remove(self, face_id: str) -> None:
        with self._lock:
            collection_id = self._collection_of.pop(face_id, None)
            if collection_id is not None:
                self._by_collection[collection_id].remove(face_id)

    def faces_of(self, person_id: str, collection_id: str) -> list[str]:
        gallery = self._by_collection.get(collection_id)
        return [] if gallery is None else gallery.faces_of(person_id)

    def remove_person(self, person_id: str, collection_id: str) -> None:
        with self._lock:
            for face_id in self.faces_of(person_id, collection_id):
                self.remove(face_id)

    def remove_collection(self, collection_id: str) -> list[str]:
        """Forget the collection's faces; their ids."""
        with self._lock:
            gallery = self._by_collection.pop(collection_id, None)
            if gallery is None:
                return []
            face_ids = gallery.face_ids()
            for face_id in face_ids:
                del self._collection_of[face_id]
            return face_ids

    def sample(self, persons: int, faces_each: int, seed: int) -> tuple[np.ndarray, list[str]]:
        """See FaceSearch.sample: persons of every collection drawn in a seeded order, each one's first faces by id."""
        with self._lock:
            galleries = list(self._by_collection.items())
        everyone = sorted((person, collection) for collection, gallery in galleries for person in gallery.person_ids())
        order = np.random.default_rng(seed).permutation(len(everyone))[:persons]
        chunks, labels = [np.empty((0, self.dimension), dtype=np.float32)], []
        for index in order:
            person, collection = everyone[index]
            gallery = self._by_collection.get(collection)
            vectors = (
                np.empty((0, self.dimension), np.float32)
                if gallery is None
                else gallery.first_vectors(person, faces_each)
            )
            chunks.append(vectors)
            labels += [person] * len(vectors)
        return np.concatenate(chunks), labels
