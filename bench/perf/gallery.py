"""Synthetic gallery rows: random unit vectors straight into the database, for search at scale."""

from __future__ import annotations

import time
import uuid

import numpy as np

from bench.perf.plan import EMBEDDER, FACES_PER_RANDOM_PERSON, MODEL_ID


async def fill_gallery(database_url: str, target: int) -> float:
    """Random unit vectors, straight into the database, up to `target` faces; seconds taken."""
    from tortoise import Tortoise

    from models import DEFAULT_COLLECTION_ID, Face, Person, database_config

    await Tortoise.init(config=database_config(database_url))
    try:
        started = time.perf_counter()
        missing = target - await Face.filter(model=MODEL_ID).count()
        rng = np.random.default_rng(target)
        crop = b"not a photo: synthetic benchmark row"
        for start in range(0, missing, 5000):
            count = min(5000, missing - start)
            persons = [
                Person(id=uuid.uuid4(), collection_id=DEFAULT_COLLECTION_ID, name=f"synthetic {start + i}")
                for i in range(0, count, FACES_PER_RANDOM_PERSON)
            ]
            await Person.bulk_create(persons)
            vectors = rng.normal(size=(count, EMBEDDER.dimension)).astype("<f4")
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            faces = [
                Face(
                    id=uuid.uuid4(),
                    person_id=persons[i // FACES_PER_RANDOM_PERSON].id,
                    collection_id=DEFAULT_COLLECTION_ID,
                    embedding=vectors[i].tobytes(),
                    model=MODEL_ID,
                    box_x=0,
                    box_y=0,
                    box_width=160,
                    box_height=160,
                    detection_score=None,
                    detector="synthetic",
                    crop_jpeg=crop,
                    image_sha256="0" * 64,
                )
                for i in range(count)
            ]
            await Face.bulk_create(faces, batch_size=1000)
        return time.perf_counter() - started
    finally:
        await Tortoise.close_connections()
