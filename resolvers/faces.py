"""Face queries and mutations: enrolment writes the database, then tells the search backend."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tortoise.transactions import in_transaction

from auth.access import sees_collection
from auth.scopes import Principal
from bounds import PAGE_SIZE_MAX
from errors import invalid, low_quality, not_found
from ml.detection import Box
from ml.pipeline import FaceEmbedding
from ml.quality import issues
from models import Collection as CollectionRow
from models import Face as FaceRow
from models import Person as PersonRow
from models import scrub_deleted
from resolvers import enrolment
from resolvers.collections import check_model_unchanged, check_room_for_faces, check_visible, chosen, model_of
from resolvers.context import Context
from resolvers.enrolment import FaceWarning
from resolvers.ids import parse_id
from resolvers.images import Photo, read_image
from resolvers.pagination import Page, PageOf, paginate
from resolvers.persons import get_person_row
from resolvers.writes import Deletion, check_room_for_face, uninterrupted


@dataclass(frozen=True)
class EnrolledFace:
    """A face just stored by createFace, with what may be wrong with it."""

    row: FaceRow
    warnings: list[FaceWarning] = field(default_factory=list)


async def face(ctx: Context, face_id: str) -> FaceRow | None:
    """The face, or None if there is none the caller may see."""
    return check_visible(ctx, await FaceRow.get_or_none(id=parse_id(face_id, "face")))


async def get_face_row(ctx: Context, face_id: str) -> FaceRow:
    row = await face(ctx, face_id)
    if row is None:
        raise not_found("face", face_id)
    return row


async def embed_image(
    ctx: Context, image: Photo, model: str, reject_multiple: bool = False, near: Box | None = None
) -> tuple[bytes, FaceEmbedding]:
    """The photo's bytes and its subject's (or its face at `near`) embedding by `model`; raises on a bad photo."""
    data = await read_image(image, ctx.services.settings.max_image_bytes)
    return data, await ctx.services.engine.embed_photo(data, reject_multiple, model, near)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def embed_for_enrolment(
    ctx: Context, image: Photo, model: str, reject_multiple: bool, allow_low_quality: bool, near: Box | None = None
) -> tuple[bytes, FaceEmbedding]:
    """As embed_image, and LOW_QUALITY for a face below the enrolment minimums unless allowed."""
    data, result = await embed_image(ctx, image, model, reject_multiple, near)
    shortfalls = issues(result.face.quality, ctx.services.quality_minimums)
    if shortfalls and not allow_low_quality:
        raise low_quality([issue.value for issue in shortfalls])
    return data, result


async def _face_columns(ctx: Context, data: bytes, model: str, result: FaceEmbedding) -> dict[str, Any]:
    box = result.face.detection.box
    store_crop = ctx.services.settings.store_face_crops
    return {
        "embedding": result.vector.astype("<f4").tobytes(),
        "model": model,
        # a new photo: any re-embedding of the one before is void
        "next_model": None,
        "next_embedding": None,
        "next_detector": None,
        "box_x": box.x,
        "box_y": box.y,
        "box_width": box.width,
        "box_height": box.height,
        "detection_score": result.face.detection.score,
        "detector": result.face.detector,
        "inter_eye_px": result.face.quality.inter_eye_px,
        "sharpness": result.face.quality.sharpness,
        "yaw_deg": result.face.quality.yaw_deg,
        "roll_deg": result.face.quality.roll_deg,
        "crop_jpeg": await asyncio.to_thread(lambda: result.crop_jpeg) if store_crop else b"",
        "image_sha256": await asyncio.to_thread(_sha256, data),  # off the event loop: up to 10 MB
    }


def stored_vector(row: FaceRow) -> np.ndarray:
    return np.frombuffer(row.embedding, dtype="<f4")


async def face_crop(principal: Principal, face_id: str) -> tuple[bytes, str] | None:
    """A face's stored crop and a tag that changes with it; None if there is none (or none the caller may see)."""
    row_id = parse_id(face_id, "face")
    row = await FaceRow.get_or_none(id=row_id).only("id", "collection_id", "crop_jpeg", "image_sha256", "model")
    if row is None or not sees_collection(principal, str(row.collection_id)) or not row.crop_jpeg:
        return None
    return row.crop_jpeg, f"{row.image_sha256[:32]}-{row.model}"


async def faces(ctx: Context, page: Page, collection: str | None) -> PageOf[FaceRow]:
    collection_id = (await chosen(ctx, collection)).id  # one the caller may see, or NOT_FOUND
    return await paginate(FaceRow.filter(collection_id=collection_id), page, PAGE_SIZE_MAX)


async def faces_by_person(ctx: Context, person_id: str) -> list[FaceRow]:
    person = await get_person_row(ctx, person_id)
    return await ctx.loaders.faces_by_person.load(str(person.id))


async def face_embedding(ctx: Context, face_id: str) -> FaceRow:
    return await get_face_row(ctx, face_id)


async def create_face(
    ctx: Context,
    person_id: str,
    image: Photo,
    *,
    reject_multiple: bool = False,
    allow_low_quality: bool = False,
    reject_if_matches_other: bool = False,
    reject_if_same_image: bool = False,
    face: Box | None = None,
) -> EnrolledFace:
    person = await get_person_row(ctx, person_id)  # fail fast, before the models run
    model = model_of(ctx, await check_room_for_faces(person.collection_id)).id
    data, result = await embed_for_enrolment(ctx, image, model, reject_multiple, allow_low_quality, face)
    columns = await _face_columns(ctx, data, model, result)
    collection = str(person.collection_id)
    warnings = [
        warning
        for warning in (
            await enrolment.same_image(columns["image_sha256"], collection, reject_if_same_image),
            await enrolment.other_person_matched(
                ctx, str(person.id), collection, model, result.vector, reject_if_matches_other
            ),
        )
        if warning is not None
    ]

    async def store() -> FaceRow:
        async with in_transaction():
            # The person may have been deleted while the models ran.
            if not await PersonRow.filter(id=person.id).exists():
                raise not_found("person", person_id)
            await check_room_for_face(person.id)
            await check_room_for_faces(person.collection_id, embedded_by=model)
            row = await FaceRow.create(person_id=person.id, collection_id=person.collection_id, **columns)
        await ctx.services.search.stored(str(row.id), str(person.id), collection, row.model, result.vector)
        return row

    return EnrolledFace(await uninterrupted(store()), warnings)


async def update_face(
    ctx: Context, face_id: str, person_id: str | None, image: Photo | None, allow_low_quality: bool
) -> FaceRow:
    row = await get_face_row(ctx, face_id)
    changes: dict[str, Any] = {}
    if person_id is not None:
        destination = await get_person_row(ctx, person_id)
        if destination.collection_id != row.collection_id:
            raise invalid("a face moves only to a person of its own collection")
        changes["person_id"] = destination.id
    model = None  # the collection's, when a new photo is embedded
    if image is not None:
        model = model_of(ctx, await CollectionRow.get(id=row.collection_id)).id
        data, result = await embed_for_enrolment(ctx, image, model, False, allow_low_quality)
        changes.update(await _face_columns(ctx, data, model, result))

    async def store(row: FaceRow) -> FaceRow:
        if changes:
            async with in_transaction():
                target = changes.get("person_id", row.person_id)
                if not await PersonRow.filter(id=target).exists():
                    raise not_found("person", target)
                if target != row.person_id:
                    await check_room_for_face(target)
                if model is not None:
                    await check_model_unchanged(row.collection_id, model)
                updated = await FaceRow.filter(id=row.id).update(**changes)
                if not updated:
                    raise not_found("face", face_id)
            before, row = row.model, await get_face_row(ctx, face_id)
            await ctx.services.search.moved(
                str(row.id), str(row.person_id), str(row.collection_id), before, row.model, stored_vector(row)
            )
        return row

    return await uninterrupted(store(row))


async def delete_face(ctx: Context, face_id: str) -> Deletion:
    row = await get_face_row(ctx, face_id)

    async def remove() -> None:
        await FaceRow.filter(id=row.id).delete()
        await ctx.services.search.deleted(str(row.id))
        await scrub_deleted()

    await uninterrupted(remove())
    return Deletion(str(row.id), deleted_faces=1)
