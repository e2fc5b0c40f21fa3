"""The peer: face_recognition 1.3 (dlib ResNet, 128-d, HOG detector) at its defaults.

It runs in a pool of worker processes, one per core, as it would be deployed on
this machine; its embeddings are cached like ours (bench/cache.py).
"""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import numpy as np

NAME = "face_recognition 1.3 (dlib)"
THRESHOLD = 0.6  # its default tolerance


def available() -> bool:
    try:
        import face_recognition  # noqa: F401
    except ImportError:
        return False
    return True


def embed_one(path: Path) -> np.ndarray | None:
    """The largest face's encoding, or None where HOG finds no face."""
    import face_recognition

    image = face_recognition.load_image_file(str(path))
    locations = face_recognition.face_locations(image)
    if not locations:
        return None
    largest = max(locations, key=lambda box: (box[2] - box[0]) * (box[1] - box[3]))
    return np.asarray(face_recognition.face_encodings(image, [largest])[0], dtype=np.float32)


def embed_many(paths: list[Path], processes: int | None = None) -> dict[Path, np.ndarray | None]:
    """Every photo's encoding, with a process per core (spawned: no TensorFlow state is inherited)."""
    if not paths:
        return {}
    processes = processes or len(os.sched_getaffinity(0))
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        return dict(zip(paths, pool.map(embed_one, paths, chunksize=16), strict=True))
