"""The in-memory gallery: every stored embedding in one contiguous float32 matrix.

A 1:K search is one matrix product over that matrix. The database stays the source
of truth; the service keeps this copy in step after each committed change and
rebuilds it from the database at start-up.
"""

from __future__ import annotations

import threading

import numpy as np

from search.ranking import Match, best_per_person


def l2_distances(matrix: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Euclidean distances between unit rows and a unit query, via one dot product."""
    distances: np.ndarray = np.sqrt(np.maximum(2.0 - 2.0 * (matrix @ query), 0.0))
    return distances


class Gallery:
    def __init__(self, dimension: int, capacity: int = 1024) -> None:
        self.dimension = dimension
        self._matrix = np.empty((capacity, dimension), dtype=np.float32)
        self._face_ids: list[str] = []
        self._person_ids: list[str] = []
        self._row_of: dict[str, int] = {}
        self._faces_of: dict[str, set[str]] = {}
        # Searches run in worker threads while the event loop applies changes.
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return len(self._face_ids)

    def __contains__(self, face_id: str) -> bool:
        return face_id in self._row_of

    @property
    def nbytes(self) -> int:
        return self._matrix.nbytes

    def person_of(self, face_id: str) -> str | None:
        row = self._row_of.get(face_id)
        return None if row is None else self._person_ids[row]

    def faces_of(self, person_id: str) -> list[str]:
        with self._lock:
            return list(self._faces_of.get(person_id, ()))

    @property
    def persons(self) -> int:
        """Persons with at least one face here."""
        return len(self._faces_of)

    def count_of(self, person_id: str) -> int:
        return len(self._faces_of.get(person_id, ()))

    def vector(self, face_id: str) -> np.ndarray:
        with self._lock:
            row: np.ndarray = self._matrix[self._row_of[face_id]].copy()
            return row

    def face_ids(self) -> list[str]:
        with self._lock:
            return list(self._face_ids)

    def person_ids(self) -> list[str]:
        """The persons with a face here."""
        with self._lock:
            return list(self._faces_of)

    def first_vectors(self, person_id: str, count: int) -> np.ndarray:
        """The person's first `count` faces by id (none if the person is gone meanwhile)."""
        with self._lock:
            faces = sorted(self._faces_of.get(person_id, ()))[:count]
            return self._matrix[[self._row_of[face] for face in faces]].copy()

    def reserve(self, capacity: int) -> None:
        """Make room for `capacity` rows, so that a bulk load copies the matrix once."""
        with self._lock:
            if capacity > len(self._matrix):
                grown = np.empty((capacity, self.dimension), dtype=np.float32)
                grown[: len(self._face_ids)] = self._matrix[: len(self._face_ids)]
                self._matrix = grown

    def extend(self, face_ids: list[str], person_ids: list[str], vectors: np.ndarray) -> None:
        """Append many new faces at once (start-up)."""
        vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, self.dimension)
        with self._lock:
            start, end = len(self._face_ids), len(self._face_ids) + len(vectors)
            if end > len(self._matrix):
                self.reserve(max(end, 2 * len(self._matrix)))
            self._matrix[start:end] = vectors
            for row, (face_id, person_id) in enumerate(zip(face_ids, person_ids, strict=True), start):
                self._face_ids.append(face_id)
                self._person_ids.append(person_id)
                self._row_of[face_id] = row
                self._faces_of.setdefault(person_id, set()).add(face_id)

    def upsert(self, face_id: str, person_id: str, vector: np.ndarray) -> None:
        """Add a face, or replace its vector and owner."""
        with self._lock:
            row = self._row_of.get(face_id)
            if row is None:
                row = len(self._face_ids)
                if row == len(self._matrix):
                    self.reserve(2 * row)
                self._face_ids.append(face_id)
                self._person_ids.append(person_id)
                self._row_of[face_id] = row
            else:
                self._faces_of[self._person_ids[row]].discard(face_id)
                self._person_ids[row] = person_id
            self._matrix[row] = vector
            self._faces_of.setdefault(person_id, set()).add(face_id)

    def remove(self, face_id: str) -> None:
        with self._lock:
            row = self._row_of.pop(face_id, None)
            if row is None:
                return
            person_id = self._person_ids[row]
            faces = self._faces_of.get(person_id, set())
            faces.discard(face_id)
            if not faces:
                self._faces_of.pop(person_id, None)
            last = len(self._face_ids) - 1
            if row != last:  # keep the matrix dense: the last row fills the hole
                self._matrix[row] = self._matrix[last]
                self._face_ids[row] = self._face_ids[last]
                self._person_ids[row] = self._person_ids[last]
                self._row_of[self._face_ids[row]] = row
            self._face_ids.pop()
            self._person_ids.pop()

    def remove_person(self, person_id: str) -> None:
        with self._lock:
            for face_id in list(self._faces_of.get(person_id, ())):
                self.remove(face_id)

    def search(self, query: np.ndarray, limit: int, person_id: str | None = None) -> list[Match]:
        """The closest face of each of the `limit` closest persons, nearest first.

        With person_id, only that person's faces are searched (1:1 verification).
        """
        with self._lock:
            if person_id is not None:
                face_ids = sorted(self._faces_of.get(person_id, ()))
                rows = np.fromiter((self._row_of[f] for f in face_ids), dtype=np.int64)
                distances = l2_distances(self._matrix[rows], query)
                order = np.argsort(distances, kind="stable")
                return [Match(face_ids[i], person_id, float(distances[i])) for i in order[:limit]]
            size = len(self._face_ids)
            if size == 0 or limit <= 0:
                return []
            distances = l2_distances(self._matrix[:size], query)
            take = min(size, limit * 16)
            while True:
                matches = self._best_per_person(distances, take, limit)
                # Enough distinct persons among the nearest rows: any person not seen
                # there is farther than all of them, so the answer is exact.
                if len(matches) == limit or take == size:
                    return matches
                take = min(size, take * 4)

    def _best_per_person(self, distances: np.ndarray, take: int, limit: int) -> list[Match]:
        nearest = np.argpartition(distances, take - 1)[:take] if take < len(distances) else np.arange(len(distances))
        nearest = nearest[np.argsort(distances[nearest], kind="stable")]
        rows = (Match(self._face_ids[row], self._person_ids[row], float(distances[row])) for row in nearest)
        return best_per_person(rows, limit)
