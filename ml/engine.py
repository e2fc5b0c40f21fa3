"""Runs the face pipeline off the event loop, with micro-batching and back-pressure.

Detection runs in a small thread pool. Crops from concurrent requests queue up for
the embedder, which takes them as one batch: up to max_batch, waiting at most
batch_wait_ms for company, and only while other photos are still being detected
(a lone request never waits). Under load the model then runs at larger batches,
which cost less per face. At most max_pending photos may be in the pipeline at
once: one more fails at once with Overloaded instead of waiting without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from ml.exceptions import Overloaded
from ml.pipeline import FaceEmbedding, FacePipeline, Frame, LocatedFace
from ml.stats import Stats

T = TypeVar("T")


@dataclass(frozen=True)
class EngineLimits:
    """See settings.py, which owns their defaults."""

    max_batch: int
    batch_wait_ms: float
    max_pending: int
    detect_workers: int


class FaceEngine:
    def __init__(self, pipeline: FacePipeline, limits: EngineLimits) -> None:
        self.pipeline = pipeline
        self.limits = limits
        self._detect_pool = ThreadPoolExecutor(limits.detect_workers, thread_name_prefix="detect")
        self._embed_pool = ThreadPoolExecutor(1, thread_name_prefix="embed")
        self._queue: asyncio.Queue[tuple[LocatedFace, asyncio.Future[FaceEmbedding]]] | None = None
        self._batcher: asyncio.Task[None] | None = None
        self._pending = 0
        self._detecting = 0  # photos admitted whose face is not yet queued for the embedder
        # Per stage: "detect" (per photo), "embed" (per batch, items = faces), "busy".
        self.stats = Stats()

    @property
    def pending(self) -> int:
        return self._pending

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._batcher = asyncio.create_task(self._run_batches(), name="embed-batcher")
        # Warm-up: the first TensorFlow call traces the graph; pay for it now.
        blank = np.zeros((1, self.pipeline.spec.input_size, self.pipeline.spec.input_size, 3), np.uint8)
        await asyncio.get_running_loop().run_in_executor(self._embed_pool, self.pipeline.embedder.embed, blank)

    async def close(self) -> None:
        if self._batcher is not None:
            self._batcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._batcher
        self._detect_pool.shutdown(wait=True, cancel_futures=True)
        self._embed_pool.shutdown(wait=True, cancel_futures=True)

    async def embed_photo(self, data: bytes, reject_multiple: bool = False) -> FaceEmbedding:
        """Decode, detect, crop and embed one photo's subject. Raises ml.exceptions on a bad photo."""
        async with self._admitted():
            face = await self._in_detection(self._locate, data, reject_multiple)
            future: asyncio.Future[FaceEmbedding] = asyncio.get_running_loop().create_future()
            assert self._queue is not None, "FaceEngine.start() was not awaited"
            self._queue.put_nowait((face, future))
            return await future

    async def locate_all(self, data: bytes, most: int) -> list[LocatedFace]:
        """Every face of one photo (the `most` largest), cropped but not embedded."""
        async with self._admitted():
            return await self._in_detection(self._locate_all, data, most)

    async def embed_all(self, data: bytes, most: int) -> list[FaceEmbedding]:
        """Every face of one photo (the `most` largest), embedded together in one embedder call."""
        async with self._admitted():
            faces = await self._in_detection(self._locate_all, data, most)
            if not faces:
                return []
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._embed_pool, self._embed, faces)

    async def detect_frame(self, data: bytes, min_face_size: int, most: int) -> Frame:
        """Decode a video frame and find its faces, not cut out: the caller chooses which to embed."""
        async with self._admitted():
            return await self._in_detection(self._detect_frame, data, min_face_size, most)

    async def embed_faces(self, faces: list[LocatedFace]) -> list[FaceEmbedding]:
        """Embed faces already cut out, in the same batches as other requests' faces."""
        if not faces:
            return []
        async with self._admitted():
            loop = asyncio.get_running_loop()
            futures = [loop.create_future() for _ in faces]
            assert self._queue is not None, "FaceEngine.start() was not awaited"
            for face, future in zip(faces, futures, strict=True):
                self._queue.put_nowait((face, future))
            return list(await asyncio.gather(*futures))

    @contextlib.asynccontextmanager
    async def _admitted(self) -> AsyncIterator[None]:
        """One photo in the pipeline; BUSY (Overloaded) beyond max_pending."""
        if self._pending >= self.limits.max_pending:
            self.stats.count("busy")
            raise Overloaded(f"{self._pending} photos are already being processed; try again shortly")
        self._pending += 1
        try:
            yield
        finally:
            self._pending -= 1

    async def _in_detection(self, work: Callable[..., T], *args: object) -> T:
        self._detecting += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._detect_pool, work, *args)
        finally:
            self._detecting -= 1

    def _locate_all(self, data: bytes, most: int) -> list[LocatedFace]:
        with self.stats.timed("detect"):
            return self.pipeline.locate_all(data, most)

    def _detect_frame(self, data: bytes, min_face_size: int, most: int) -> Frame:
        with self.stats.timed("detect"):
            return self.pipeline.detect_frame(data, min_face_size, most)

    def _locate(self, data: bytes, reject_multiple: bool) -> LocatedFace:
        with self.stats.timed("detect"):
            return self.pipeline.locate(data, reject_multiple)

    def _embed(self, faces: list[LocatedFace]) -> list[FaceEmbedding]:
        with self.stats.timed("embed", items=len(faces)):
            return self.pipeline.embed(faces)

    async def _run_batches(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            deadline = time.monotonic() + self.limits.batch_wait_ms / 1000
            while len(batch) < self.limits.max_batch:
                if self._queue.empty() and self._detecting == 0:
                    break  # nothing else is on its way: run now, at no cost in latency
                timeout = deadline - time.monotonic()
                if timeout <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), timeout))
                except TimeoutError:
                    break
            batch = [(face, future) for face, future in batch if not future.cancelled()]
            if not batch:
                continue
            try:
                results = await loop.run_in_executor(self._embed_pool, self._embed, [face for face, _ in batch])
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
