"""reembedFaces: faces stored by another model than their collection's, embedded again from their stored crops.

Switching EMBEDDER (or FACE_DETECTOR) re-pins the collections to the new model and leaves every stored face
under the model id that made it, unsearched by the new one (ids are never compared across models). This
carries a gallery over without the original photos: each face's stored crop is run through the detector and
its collection's embedder as a photo would be, and the row takes the new embedding and model id in place.
(reembedCollection moves one collection to another model while it goes on answering: resolvers/jobs.py.)
The crop itself is kept as enrolment made it: it is the widest view of the face there is, and what a later
re-embedding would start from again.

Work goes in id order, a bounded batch per call, so that a caller (`faceid reembed`) walks the whole
gallery with `after` and can stop and resume anywhere; a face whose crop yields no face is left as it was
and reported.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from bounds import REEMBED_BATCH_MAX
from errors import invalid
from ml.engine import FaceEngine
from ml.exceptions import FaceError
from ml.pipeline import FaceEmbedding
from models import Face as FaceRow
from resolvers.collections import collections
from resolvers.context import Context
from resolvers.ids import parse_id
from resolvers.writes import uninterrupted


@dataclass(frozen=True)
class SkippedFace:
    face_id: str
    reason: str  # "no stored crop", or the detector's or embedder's error


@dataclass(frozen=True)
class Reembedding:
    """One batch's outcome, and where the next one starts."""

    model: str  # the default model's id (each face now has its collection's)
    reembedded: list[str]
    skipped: list[SkippedFace]
    last_id: str | None  # the last face id this batch looked at: the next batch's `after`
    remaining: int  # faces of other models after last_id


def _after(rows: QuerySet[FaceRow], face_id: uuid.UUID | None) -> QuerySet[FaceRow]:
    return rows if face_id is None else rows.filter(id__gt=face_id)


NO_CROP = "no stored crop (STORE_FACE_CROPS=false when it was enrolled)"


async def embed_stored_crop(engine: FaceEngine, row: FaceRow, model: str) -> FaceEmbedding | str:
    """The face's stored crop run through `model`'s pipeline as a photo would be, or why it gave no embedding."""
    if not row.crop_jpeg:
        return NO_CROP
    try:
        return await engine.embed_photo(bytes(row.crop_jpeg), model=model)
    except FaceError as exc:
        return str(exc)


async def _pinned(ctx: Context) -> dict[str, str]:
    """The model of each collection the caller sees, by collection id."""
    return {str(row.id): row.model for row in await collections(ctx)}


def _off_model(pinned: dict[str, str]) -> Q:
    """Faces of a model other than their collection's."""
    if not pinned:
        return Q(id__isnull=True)  # nothing
    return Q(*[Q(collection_id=c) & ~Q(model=m) for c, m in pinned.items()], join_type="OR")


async def reembed_faces(ctx: Context, after: str | None, limit: int) -> Reembedding:
    if not 1 <= limit <= REEMBED_BATCH_MAX:
        raise invalid(f"`limit` must be between 1 and {REEMBED_BATCH_MAX}")
    start = None if after is None else parse_id(after, "face")
    pinned = await _pinned(ctx)  # a tenant's admin: its collections only
    others = FaceRow.filter(_off_model(pinned))
    rows = await _after(others, start).order_by("id").limit(limit)
    # A batch's worth at a time: the engine embeds them together, and the queue is never overfilled.
    step = ctx.services.settings.max_batch
    results: list[FaceEmbedding | str] = []
    for chunk in range(0, len(rows), step):
        batch = rows[chunk : chunk + step]
        engine = ctx.services.engine
        results += await asyncio.gather(
            *(embed_stored_crop(engine, row, pinned[str(row.collection_id)]) for row in batch)
        )
    done, skipped = [], []
    for row, result in zip(rows, results, strict=True):
        if isinstance(result, str):
            skipped.append(SkippedFace(str(row.id), result))
            continue
        if await uninterrupted(_store(ctx, row, pinned[str(row.collection_id)], result)):
            done.append(str(row.id))
    last = rows[-1].id if rows else start
    remaining = await _after(others, last).count()
    return Reembedding(ctx.services.model_id, done, skipped, None if last is None else str(last), remaining)


async def _store(ctx: Context, row: FaceRow, model: str, result: FaceEmbedding) -> bool:
    """Write the new embedding, unless the face changed meanwhile (deleted, given a new photo, re-embedded)."""
    vector = result.vector.astype("<f4")
    updated = await FaceRow.filter(id=row.id, model=row.model, image_sha256=row.image_sha256).update(
        embedding=vector.tobytes(), model=model, detector=result.face.detector
    )
    if updated:
        await ctx.services.search.moved(
            str(row.id), str(row.person_id), str(row.collection_id), row.model, model, vector
        )
    return bool(updated)
