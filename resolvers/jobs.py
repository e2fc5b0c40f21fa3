"""reembedCollection: a background job that moves a collection to another model without the original photos.

Every face's stored crop is run through the new model's pipeline (detector and embedder, as a photo would
be), and the result is kept beside the face (`next_embedding`) while 1:K goes on answering with the old
model. When no face is left, one transaction switches the collection: every face takes its next embedding
and the collection its new model, so a search sees the old model or the new one, never a mix. A face whose
crop gives no embedding (none was stored, or no face is found in it) is marked with an empty next
embedding, reported, and left under the old model, where no search of the collection sees it any more.

The job's row holds its progress, so that it resumes where it was after a crash or a stop: each replica
that starts takes over the running jobs whose owner has given no sign of life for JOB_STALE_S (on SQLite
only one process serves the file, so every running job is its own at start). Faces enrolled while the job
runs are embedded by the old model as usual and picked up by the job before it switches; one enrolled
across the switch fails with BUSY and is tried again (resolvers/collections.check_model_unchanged).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import numpy as np
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from auth.access import sees_collection
from errors import invalid, not_found
from ml.exceptions import Overloaded
from ml.pipeline import FaceEmbedding
from models import Collection as CollectionRow
from models import Face as FaceRow
from models import Job as JobRow
from resolvers.collections import get_collection_row, loaded_model
from resolvers.context import Context
from resolvers.ids import parse_id
from resolvers.reembed import embed_stored_crop
from services import Services

log = logging.getLogger(__name__)

JOB_BATCH = 16  # faces read and embedded per step; progress (and the heartbeat) is written after each
JOB_STALE_S = 30.0  # a running job whose owner has been silent this long is taken over
JOB_WATCH_S = 10.0  # how often a replica looks for such jobs
JOB_SKIPPED_KEPT = 100  # skipped faces listed on a job (the count goes on)
JOB_POLL_S = 0.5  # jobProgress: how often a subscriber's job is read
OVERLOADED_WAIT_S = 1.0  # the engine is full (BUSY for callers): the job waits, it does not fail
REEMBED_COLLECTION = "reembedCollection"


class JobState(StrEnum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class JobProgress:
    """A job as callers see it."""

    row: JobRow

    @property
    def finished(self) -> bool:
        return self.row.state != JobState.RUNNING

    @property
    def remaining(self) -> int:
        return max(0, self.row.total - self.row.done - self.row.skipped_count)

    @property
    def progress(self) -> float:
        """Share of the faces handled, 0 to 1 (1 once succeeded)."""
        if self.row.state == JobState.SUCCEEDED:
            return 1.0
        return min(1.0, (self.row.done + self.row.skipped_count) / max(self.row.total, 1))

    @property
    def eta_s(self) -> float | None:
        """Seconds to go at the rate so far; None once finished or before the first face."""
        handled = self.row.done + self.row.skipped_count
        if self.finished or handled == 0:
            return None
        elapsed = (datetime.now(UTC) - self.row.started_at).total_seconds()
        return round(elapsed / handled * self.remaining, 1)


def _now() -> datetime:
    return datetime.now(UTC)


def _still(row: FaceRow) -> Q:
    """The face as it was read: not deleted, not given a new photo, not handled meanwhile."""
    return Q(id=row.id, image_sha256=row.image_sha256, model=row.model, next_model__isnull=True)


class JobRunner:
    """The background jobs this replica runs."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._watcher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Resume the running jobs nobody runs (all of them on SQLite), then keep looking for orphans."""
        await self._take_over(stale_s=None if self.services.settings.on_postgres else 0.0)
        if self.services.settings.on_postgres:
            self._watcher = asyncio.create_task(self._watch(), name="job-watcher")

    async def close(self) -> None:
        """Stop this replica's jobs where they are: they stay RUNNING, and the next start resumes them."""
        tasks = [*self._tasks.values(), *([self._watcher] if self._watcher else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def begin(self, collection: CollectionRow, model: str) -> JobRow:
        """Start moving the collection to `model` (INVALID_INPUT while another job moves it)."""
        async with in_transaction():
            await CollectionRow.filter(id=collection.id).select_for_update().get()
            if await JobRow.filter(collection_id=collection.id, state=JobState.RUNNING).exists():
                raise invalid(f"collection {collection.name!r} is already being re-embedded (see `job`)")
            # What an earlier job that never finished left beside the faces is void.
            await FaceRow.filter(collection_id=collection.id, next_model__not_isnull=True).update(
                next_model=None, next_embedding=None, next_detector=None
            )
            row = await JobRow.create(
                kind=REEMBED_COLLECTION,
                collection_id=collection.id,
                from_model=collection.model,
                to_model=model,
                state=JobState.RUNNING,
                total=await FaceRow.filter(collection_id=collection.id).count(),
                owner=self.owner,
                heartbeat_at=_now(),
            )
        self._spawn(row)
        return row

    def _spawn(self, row: JobRow) -> None:
        job_id = str(row.id)
        task = asyncio.create_task(self._run(row), name=f"job-{job_id}")
        self._tasks[job_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(job_id, None))

    async def _take_over(self, stale_s: float | None) -> None:
        """Claim the running jobs whose owner is silent (`stale_s` None: JOB_STALE_S) and run them here; only
        those whose model this replica loads (on SQLite, where no other process could, the rest fail)."""
        cutoff = _now() - timedelta(seconds=JOB_STALE_S if stale_s is None else stale_s)
        orphans = await JobRow.filter(state=JobState.RUNNING).filter(Q(heartbeat_at__lt=cutoff) | Q(owner=None))
        for row in orphans:
            if str(row.id) in self._tasks:
                continue
            if row.to_model not in self.services.models:
                if not self.services.settings.on_postgres:
                    error = f"model {row.to_model} is not loaded (EMBEDDERS) on the server that resumed the job"
                    await JobRow.filter(id=row.id).update(state=JobState.FAILED, error=error, finished_at=_now())
                continue
            claimed = await JobRow.filter(id=row.id, state=JobState.RUNNING, heartbeat_at=row.heartbeat_at).update(
                owner=self.owner, heartbeat_at=_now()
            )
            if claimed:  # not taken by another replica in the meantime
                log.info("resuming job %s (%s of collection %s)", row.id, row.kind, row.collection_id)
                self._spawn(await JobRow.get(id=row.id))

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(JOB_WATCH_S)
            try:
                await self._take_over(stale_s=None)
            except Exception:
                log.exception("could not look for orphaned jobs")

    async def _run(self, job: JobRow) -> None:
        try:
            await self._reembed(job)
        except asyncio.CancelledError:
            raise
        except _Lost:
            log.info("job %s is no longer this replica's (or its collection is gone)", job.id)
        except Exception as exc:
            log.exception("job %s failed", job.id)
            await JobRow.filter(id=job.id, owner=self.owner).update(
                state=JobState.FAILED, error=str(exc)[:500], finished_at=_now(), owner=None
            )

    async def _reembed(self, job: JobRow) -> None:
        target, collection_id = job.to_model, job.collection_id
        while True:
            rows = (
                await FaceRow.filter(collection_id=collection_id, next_model__isnull=True)
                .exclude(model=target)
                .order_by("id")
                .limit(JOB_BATCH)
                .only("id", "model", "image_sha256", "crop_jpeg")
            )
            if not rows:
                if await self._switch(job):
                    return
                continue  # a face enrolled meanwhile: embed it, then try again
            await self._keep(job, rows, await self._embed(rows, target))  # progress and heartbeat

    async def _embed(self, rows: list[FaceRow], model: str) -> list[FaceEmbedding | str]:
        """Each face's crop embedded by `model`, or why not; never more at once than leaves room for callers."""
        step = max(1, min(self.services.settings.max_batch, self.services.settings.max_pending // 2))
        results: list[FaceEmbedding | str] = []
        engine = self.services.engine
        for start in range(0, len(rows), step):
            chunk = rows[start : start + step]
            while True:
                try:
                    results += await asyncio.gather(*(embed_stored_crop(engine, row, model) for row in chunk))
                    break
                except Overloaded:  # callers come first
                    await asyncio.sleep(OVERLOADED_WAIT_S)
        return results

    async def _keep(self, job: JobRow, rows: list[FaceRow], results: list[FaceEmbedding | str]) -> None:
        """Store the batch's next embeddings (an empty one marks a face that gave none) and the job's progress."""
        done, skipped = 0, []
        for row, result in zip(rows, results, strict=True):
            if isinstance(result, str):
                changed = await FaceRow.filter(_still(row)).update(next_model=job.to_model)
                if changed:
                    skipped.append({"face": str(row.id), "reason": result})
                continue
            vector = result.vector.astype("<f4").tobytes()
            done += await FaceRow.filter(_still(row)).update(
                next_model=job.to_model, next_embedding=vector, next_detector=result.face.detector
            )
        room = max(0, JOB_SKIPPED_KEPT - len(job.skipped))
        job.skipped = [*job.skipped, *skipped[:room]]
        updated = await JobRow.filter(id=job.id, owner=self.owner, state=JobState.RUNNING).update(
            done=F("done") + done,
            skipped_count=F("skipped_count") + len(skipped),
            skipped=job.skipped,
            total=await FaceRow.filter(collection_id=job.collection_id).count(),
            heartbeat_at=_now(),
        )
        if not updated:
            raise _Lost()

    async def _switch(self, job: JobRow) -> bool:
        """Move the whole collection to the new model in one transaction; False if a face still lacks its
        next embedding (enrolled meanwhile)."""
        collection_id, target, searches = str(job.collection_id), job.to_model, self.services.search
        staged = False
        try:
            async with in_transaction():
                collection = await CollectionRow.filter(id=job.collection_id).select_for_update().first()
                if collection is None:
                    raise _Lost()
                left = FaceRow.filter(collection_id=job.collection_id, next_model__isnull=True).exclude(model=target)
                if await left.exists():
                    return False
                moving = FaceRow.filter(
                    collection_id=job.collection_id, next_model=target, next_embedding__not_isnull=True
                )
                # The new model's search holds the collection before the switch commits: no search after it
                # finds the collection empty. Nothing routes a search of it there until then.
                for face_id, person_id, vector in await moving.values_list("id", "person_id", "next_embedding"):
                    staged = True
                    vector = np.frombuffer(vector, dtype="<f4")
                    await searches.stored(str(face_id), str(person_id), collection_id, target, vector)
                await moving.update(
                    embedding=F("next_embedding"),
                    model=target,
                    detector=F("next_detector"),
                    next_model=None,
                    next_embedding=None,
                    next_detector=None,
                )
                # Faces that gave no embedding stay on the old model, unsearched; their mark goes.
                await FaceRow.filter(collection_id=job.collection_id, next_model=target).update(next_model=None)
                await CollectionRow.filter(id=job.collection_id).update(model=target, updated_at=_now())
                finished = await JobRow.filter(id=job.id, owner=self.owner, state=JobState.RUNNING).update(
                    state=JobState.SUCCEEDED,
                    total=await FaceRow.filter(collection_id=job.collection_id).count(),
                    finished_at=_now(),
                    heartbeat_at=_now(),
                    owner=None,
                )
                if not finished:
                    raise _Lost()
        except BaseException:
            if staged and target in searches:
                await searches.of(target).deleted_collection(collection_id)
            raise
        if job.from_model != target and job.from_model in searches:
            await searches.of(job.from_model).deleted_collection(collection_id)
        await searches.recount()
        log.info("collection %s now searched by %s (job %s)", collection_id, target, job.id)
        return True


class _Lost(Exception):
    """The job was taken by another replica, or its collection deleted: this replica stops running it."""


async def start_jobs(services: Services) -> JobRunner:
    """The replica's job runner, its orphaned jobs resumed; `services.jobs` from now on."""
    services.jobs = runner = JobRunner(services)
    await runner.start()
    return runner


def _runner(ctx: Context) -> JobRunner:
    runner = ctx.services.jobs
    assert isinstance(runner, JobRunner), "the job runner starts with the app"
    return runner


async def reembed_collection(ctx: Context, collection_id: str, model: str) -> JobProgress:
    collection = await get_collection_row(ctx, collection_id)
    target = loaded_model(ctx, model).id
    if target == collection.model:
        raise invalid(f"collection {collection.name!r} is already searched by {target}")
    return JobProgress(await _runner(ctx).begin(collection, target))


async def job(ctx: Context, job_id: str) -> JobProgress | None:
    """The job, or None if there is none in a collection the caller may see."""
    row = await JobRow.get_or_none(id=parse_id(job_id, "job"))
    if row is None or not sees_collection(ctx.principal, str(row.collection_id)):
        return None
    return JobProgress(row)


async def job_progress(ctx: Context, job_id: str) -> AsyncIterator[JobProgress]:
    """The job now, then each time it changes, until it has finished (NOT_FOUND for one the caller cannot see)."""
    current = await job(ctx, job_id)
    if current is None:
        raise not_found("job", job_id)
    yield current
    seen = (current.row.updated_at, current.row.state)
    while not current.finished:
        await asyncio.sleep(JOB_POLL_S)
        row = await JobRow.get_or_none(id=current.row.id)
        if row is None:  # its collection was deleted
            return
        current = JobProgress(row)
        if (row.updated_at, row.state) != seen:
            seen = (row.updated_at, row.state)
            yield current
