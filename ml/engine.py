"""Runs the face pipeline off the event loop, with micro-batching and back-pressure.

Detection runs in a small thread pool. Crops from concurrent requests queue up for
the embedder, which takes them as one batch: up to max_batch, waiting at most
batch_wait_ms for company, and only while other photos are still being detected
(a lone request never waits). Under load the model then runs at larger batches,
which cost less per face. At most max_pending photos may be in the pipeline at
once: one more fails at once with Overloaded instead of waiting without bound.

The engine may hold several pipelines, one per embedding model (EMBEDDERS), that share
one detector: each model has its own queue and batcher, and every call names the
model it wants (None: the first, the server's default).
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

from ml import liveness
from ml.detection import Box
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


Waiting = tuple[LocatedFace, asyncio.Future[FaceEmbedding]]


class UnknownModel(KeyError):
    """A model id this engine has not loaded."""


class _ModelLane:
    """One model's pipeline, its queue of faces waiting for the embedder, and the thread that runs it."""

    def __init__(self, pipeline: FacePipeline) -> None:
        self.pipeline = pipeline
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="embed")
        self.queue: asyncio.Queue[Waiting] = asyncio.Queue()
        self.batcher: asyncio.Task[None] | None = None


class FaceEngine:
    def __init__(self, pipelines: FacePipeline | list[FacePipeline], limits: EngineLimits) -> None:
        """`pipelines`: one, or one per model (the first is the default); model ids must differ."""
        chosen = pipelines if isinstance(pipelines, list) else [pipelines]
        self.pipeline = chosen[0]  # the default model's
        self._lanes = {pipeline.model_id: _ModelLane(pipeline) for pipeline in chosen}
        if len(self._lanes) != len(chosen):
            raise ValueError("two pipelines of the same model id")
        self.limits = limits
        self._detect_pool = ThreadPoolExecutor(limits.detect_workers, thread_name_prefix="detect")
        self._pending = 0
        self._detecting = 0  # photos admitted whose face is not yet queued for the embedder
        # Per stage: "detect" (per photo), "embed" (per batch, items = faces), "busy".
        self.stats = Stats()

    @property
    def pending(self) -> int:
        return self._pending

    @property
    def models(self) -> list[str]:
        """The model ids loaded, the default first."""
        return list(self._lanes)

    def pipeline_of(self, model: str | None) -> FacePipeline:
        return self._lane(model).pipeline

    def _lane(self, model: str | None) -> _ModelLane:
        if model is None:
            model = self.pipeline.model_id
        try:
            return self._lanes[model]
        except KeyError:
            raise UnknownModel(model) from None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        for lane in self._lanes.values():
            lane.queue = asyncio.Queue()
            lane.batcher = asyncio.create_task(self._run_batches(lane), name=f"embed-batcher-{lane.pipeline.model_id}")
            # Warm-up: the first TensorFlow call traces the graph; pay for it now.
            size = lane.pipeline.spec.input_size
            await loop.run_in_executor(lane.pool, lane.pipeline.embedder.embed, np.zeros((1, size, size, 3), np.uint8))

    async def close(self) -> None:
        for lane in self._lanes.values():
            if lane.batcher is not None:
                lane.batcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await lane.batcher
        self._detect_pool.shutdown(wait=True, cancel_futures=True)
        for lane in self._lanes.values():
            lane.pool.shutdown(wait=True, cancel_futures=True)

    async def embed_photo(
        self, data: bytes, reject_multiple: bool = False, model: str | None = None, near: Box | None = None
    ) -> FaceEmbedding:
        """Decode, detect, crop and embed one photo's subject (or its face at `near`). Raises ml.exceptions."""
        lane = self._lane(model)
        async with self._admitted():
            face = await self._in_detection(self._locate, lane.pipeline, data, reject_multiple, near)
            future: asyncio.Future[FaceEmbedding] = asyncio.get_running_loop().create_future()
            assert lane.batcher is not None, "FaceEngine.start() was not awaited"
            lane.queue.put_nowait((face, future))
            return await future

    async def locate_all(self, data: bytes, most: int, model: str | None = None) -> list[LocatedFace]:
        """Every face of one photo (the `most` largest), cropped for the model but not embedded."""
        pipeline = self.pipeline_of(model)
        async with self._admitted():
            return await self._in_detection(self._locate_all, pipeline, data, most)

    async def embed_all(self, data: bytes, most: int, model: str | None = None) -> list[FaceEmbedding]:
        """Every face of one photo (the `most` largest), embedded together in one embedder call."""
        lane = self._lane(model)
        async with self._admitted():
            faces = await self._in_detection(self._locate_all, lane.pipeline, data, most)
            if not faces:
                return []
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(lane.pool, self._embed, lane.pipeline, faces)

    async def observe_frames(self, frames: list[bytes], model: str | None = None) -> list[liveness.Observed]:
        """A liveness session's frames, each admitted and detected as a photo, the faces embedded together."""
        lane = self._lane(model)
        located = []
        for data in frames:
            async with self._admitted():
                located.append(await self._in_detection(self._locate_sole, lane.pipeline, data))
        embedded = iter(await self.embed_faces([face for _, face in located if face is not None], model))
        return [liveness.observation(count, next(embedded) if face else None) for count, face in located]

    async def detect_frame(self, data: bytes, min_face_size: int, most: int) -> Frame:
        """Decode a video frame and find its faces, not cut out: the caller chooses which to embed."""
        async with self._admitted():
            return await self._in_detection(self._detect_frame, data, min_face_size, most)

    async def embed_faces(self, faces: list[LocatedFace], model: str | None = None) -> list[FaceEmbedding]:
        """Embed faces already cut out (by `pipeline_of(model).cut`), in the same batches as other requests'."""
        if not faces:
            return []
        lane = self._lane(model)
        async with self._admitted():
            loop = asyncio.get_running_loop()
            futures = [loop.create_future() for _ in faces]
            assert lane.batcher is not None, "FaceEngine.start() was not awaited"
            for face, future in zip(faces, futures, strict=True):
                lane.queue.put_nowait((face, future))
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

    def _locate_all(self, pipeline: FacePipeline, data: bytes, most: int) -> list[LocatedFace]:
        with self.stats.timed("detect"):
            return pipeline.locate_all(data, most)

    def _locate_sole(self, pipeline: FacePipeline, data: bytes) -> tuple[int, LocatedFace | None]:
        with self.stats.timed("detect"):
            return pipeline.locate_sole(data)

    def _detect_frame(self, data: bytes, min_face_size: int, most: int) -> Frame:
        with self.stats.timed("detect"):
            return self.pipeline.detect_frame(data, min_face_size, most)  # the detector every pipeline shares

    def _locate(self, pipeline: FacePipeline, data: bytes, reject_multiple: bool, near: Box | None) -> LocatedFace:
        with self.stats.timed("detect"):
            return pipeline.locate(data, reject_multiple, near)

    def _embed(self, pipeline: FacePipeline, faces: list[LocatedFace]) -> list[FaceEmbedding]:
        with self.stats.timed("embed", items=len(faces)):
            return pipeline.embed(faces)

    async def _run_batches(self, lane: _ModelLane) -> None:
        queue, loop = lane.queue, asyncio.get_running_loop()
        while True:
            batch = [await queue.get()]
            deadline = time.monotonic() + self.limits.batch_wait_ms / 1000
            while len(batch) < self.limits.max_batch:
                if queue.empty() and self._detecting == 0:
                    break  # nothing else is on its way: run now, at no cost in latency
                timeout = deadline - time.monotonic()
                if timeout <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(queue.get(), timeout))
                except TimeoutError:
                    break
            batch = [(face, future) for face, future in batch if not future.cancelled()]
            if not batch:
                continue
            try:
                faces = [face for face, _ in batch]
                results = await loop.run_in_executor(lane.pool, self._embed, lane.pipeline, faces)
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
