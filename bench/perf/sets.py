"""The shared photo sets, and the peer (face_recognition) on them with a process per core."""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.pool
import os
import time
from collections.abc import Iterator
from pathlib import Path

import devdata
from bench.perf.plan import LFW_SAMPLE

SMALL_PHOTOS = "small web photos (five-celebrity/train)"  # the set with a target of its own


def photo_sets() -> dict[str, list[Path]]:
    """The shared photos in three kinds: small web photos, LFW's 250 x 250 crops, large photos."""
    lfw = sorted({path for pair in devdata.read_lfw_pairs() for path in (pair.x, pair.y)})[:LFW_SAMPLE]
    return {
        SMALL_PHOTOS: [p for ps in devdata.celebrity_photos("train").values() for p in ps],
        f"LFW 250 × 250 (first {LFW_SAMPLE} of the pairs' photos)": lfw,
        "large photos (faces-dev/deepface, 0.3–2 MP)": sorted(devdata.DEEPFACE.glob("*.jpg")),
    }


@contextlib.contextmanager
def peer_pool(warm: list[Path]) -> Iterator[multiprocessing.pool.Pool | None]:
    """face_recognition with a process per core, as it would be deployed here; None if not installed."""
    from bench import peer

    if not peer.available():
        yield None
        return
    with multiprocessing.get_context("spawn").Pool(len(os.sched_getaffinity(0))) as pool:
        pool.map(peer.embed_one, warm, chunksize=1)  # imports and model loads, in every worker
        yield pool


def peer_rate(pool: multiprocessing.pool.Pool, paths: list[Path]) -> float:
    """The peer's photos/s on these photos: the largest face's encoding of each."""
    from bench import peer

    started = time.perf_counter()
    pool.map(peer.embed_one, paths, chunksize=1)
    return len(paths) / (time.perf_counter() - started)
