"""The in-memory gallery: exact search, and every change applied in place."""

from __future__ import annotations

import numpy as np
import pytest

from search.gallery import Gallery, l2_distances
from search.ranking import similarity

DIM = 16


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    vectors = rng.normal(size=(n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture
def filled() -> tuple[Gallery, np.ndarray, list[str]]:
    rng = np.random.default_rng(7)
    vectors = unit(rng, 300)
    persons = [f"p{i % 40}" for i in range(300)]
    gallery = Gallery(DIM, capacity=8)  # small, so that adding grows it
    for i, vector in enumerate(vectors):
        gallery.upsert(f"f{i}", persons[i], vector)
    return gallery, vectors, persons


def brute_force(vectors: np.ndarray, persons: list[str], query: np.ndarray, limit: int) -> list[tuple[str, float]]:
    distances = np.linalg.norm(vectors - query, axis=1)
    best: dict[str, float] = {}
    for person, distance in zip(persons, distances, strict=True):
        best[person] = min(best.get(person, np.inf), float(distance))
    return sorted(best.items(), key=lambda item: item[1])[:limit]


def test_search_is_exact_and_one_per_person(filled):
    gallery, vectors, persons = filled
    for query in unit(np.random.default_rng(1), 20):
        for limit in (1, 5, 39, 40, 100):
            got = [(m.person_id, m.distance) for m in gallery.search(query, limit)]
            want = brute_force(vectors, persons, query, limit)
            assert [p for p, _ in got] == [p for p, _ in want]
            np.testing.assert_allclose([d for _, d in got], [d for _, d in want], atol=1e-5)


def test_search_within_one_person(filled):
    gallery, vectors, persons = filled
    query = vectors[3]
    matches = gallery.search(query, 100, person_id="p3")
    assert {m.person_id for m in matches} == {"p3"}
    assert len(matches) == gallery.count_of("p3") == sum(p == "p3" for p in persons)
    assert matches[0].face_id == "f3" and matches[0].distance == pytest.approx(0.0, abs=1e-3)
    assert gallery.search(query, 5, person_id="nobody") == []


def test_remove_move_and_replace(filled):
    gallery, vectors, _ = filled
    gallery.remove("f0")  # the last row moves into the hole
    assert "f0" not in gallery and len(gallery) == 299
    np.testing.assert_array_equal(gallery.vector("f299"), vectors[299])
    assert all(m.face_id != "f0" for m in gallery.search(vectors[0], 40))

    gallery.upsert("f5", "p-new", vectors[5])
    assert gallery.person_of("f5") == "p-new" and gallery.count_of("p5") == 7
    gallery.upsert("f5", "p-new", vectors[6])
    np.testing.assert_array_equal(gallery.vector("f5"), vectors[6])

    gallery.remove_person("p1")
    assert gallery.count_of("p1") == 0 and len(gallery) == 299 - 8


def test_bulk_extend(filled):
    _, vectors, _ = filled
    gallery = Gallery(DIM, capacity=4)
    assert len(gallery) == 0 and gallery.search(vectors[0], 3) == []
    gallery.extend(["a", "b"], ["x", "y"], vectors[:2])
    gallery.extend([f"c{i}" for i in range(100)], ["z"] * 100, vectors[100:200])  # grows the matrix
    assert len(gallery) == 102 and gallery.person_of("b") == "y" and gallery.count_of("z") == 100
    assert gallery.search(vectors[1], 1)[0].face_id == "b"
    np.testing.assert_array_equal(gallery.vector("c7"), vectors[107])


def test_distance_and_similarity():
    rng = np.random.default_rng(3)
    matrix, query = unit(rng, 50), unit(rng, 1)[0]
    np.testing.assert_allclose(l2_distances(matrix, query), np.linalg.norm(matrix - query, axis=1), atol=1e-5)
    assert similarity(0.0) == 1.0 and similarity(2.0) == 0.0
    assert similarity(0.5) > similarity(1.0) > similarity(1.5)
