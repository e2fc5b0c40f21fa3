"""reembedFaces: faces stored by another model, embedded again by this server's from their stored crops.

Switching EMBEDDER (or FACE_DETECTOR) leaves every stored face under the model id that made it, unsearched
by the new one (ids are never compared across models). This carries a gallery over without the original
photos: each face's stored crop is run through this server's detector and embedder as a photo would be,
and the row takes the new embedding and model id in place. The crop itself is kept as enrolment made it:
it is the widest view of the face there is, and what a later re-embedding would start from again.

Work goes in id order, a bounded batch per call, so that a caller (`faceid reembed`) walks the whole
gallery with `after` and can stop and resume anywhere; a face whose crop yields no face is left as it was
and reported.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from tortoise.queryset import QuerySet

from bounds import REEMBED_BATCH_MAX
from errors import invalid
from ml.exceptions import FaceError
from ml.pipeline import FaceEmbedding
from models import Face as FaceRow
from resolvers.collections import visible
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

    model: str  # the model id the faces now have
    reembedded: list[str]
    skipped: list[SkippedFace]
    last_id: str | None  # the last face id this batch looked at: the next batch's `after`
    remaining: int  # faces of other models after last_id


def _after(rows: QuerySet[FaceRow], face_id: uuid.UUID | None) -> QuerySet[FaceRow]:
    return rows if face_id is None else rows.filter(id__gt=face_id)


async def _embed(ctx: Context, row: FaceRow) -> FaceEmbedding | str:
    if not row.crop_jpeg:
        return "no stored crop (STORE_FACE_CROPS=false when it was enrolled)"
    try:
        return await ctx.services.engine.embed_photo(bytes(row.crop_jpeg))
    except FaceError as exc:
        return str(exc)


async def reembed_faces(ctx: Context, after: str | None, limit: int) -> Reembedding:
    if not 1 <= limit <= REEMBED_BATCH_MAX:
        raise invalid(f"`limit` must be between 1 and {REEMBED_BATCH_MAX}")
    start = None if after is None else parse_id(after, "face")
    others = visible(ctx, FaceRow.exclude(model=ctx.services.model_id))  # a tenant's admin: its collections only
    rows = await _after(others, start).order_by("id").limit(limit)
    # A batch's worth at a time: the engine embeds them together, and the queue is never overfilled.
    step = ctx.services.settings.max_batch
    results: list[FaceEmbedding | str] = []
    for chunk in range(0, len(rows), step):
        results += await asyncio.gather(*(_embed(ctx, row) for row in rows[chunk : chunk + step]))
    model, done, skipped = ctx.services.model_id, [], []
    for row, result in zip(rows, results, strict=True):
        if isinstance(result, str):
            skipped.append(SkippedFace(str(row.id), result))
            continue
        if await uninterrupted(_store(ctx, row, result)):
            done.append(str(row.id))
    last = rows[-1].id if rows else start
    remaining = await _after(others, last).count()
    return Reembedding(model, done, skipped, None if last is None else str(last), remaining)


async def _store(ctx: Context, row: FaceRow, result: FaceEmbedding) -> bool:
    """Write the new embedding, unless the face changed meanwhile (deleted, given a new photo, re-embedded)."""
    vector = result.vector.astype("<f4")
    updated = await FaceRow.filter(id=row.id, model=row.model, image_sha256=row.image_sha256).update(
        embedding=vector.tobytes(), model=ctx.services.model_id, detector=result.face.detector
    )
    if updated:
        await ctx.services.search.stored(
            str(row.id), str(row.person_id), str(row.collection_id), ctx.services.model_id, vector
        )
    return bool(updated)
