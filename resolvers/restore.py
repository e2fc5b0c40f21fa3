"""Put back what `faceid export` wrote: persons and faces with their ids, times, embeddings and crops.

Restoring is idempotent: a row whose id is already there is left as it is, so an
interrupted restore can simply be run again.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from tortoise.transactions import in_transaction

from errors import invalid, not_found
from ml.detection import Box
from ml.quality import FaceQuality
from models import Face as FaceRow
from models import Person as PersonRow
from resolvers.collections import check_room_for_faces, check_room_for_person, check_visible, chosen
from resolvers.context import Context
from resolvers.ids import parse_id
from resolvers.persons import check_external_id_free, clean_external_id, clean_metadata, clean_name, get_person_row
from resolvers.writes import uninterrupted

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ExportedPerson:
    """A person as `faceid export` wrote it."""

    id: str
    name: str
    external_id: str | None
    metadata: object
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ExportedFace:
    """A face as `faceid export` wrote it: embedding and crop included, nothing to recompute."""

    id: str
    person_id: str
    model: str
    embedding: list[float]
    box: Box
    detector: str
    detection_score: float | None
    quality: FaceQuality | None  # None for a face enrolled before quality was measured
    crop_jpeg_base64: str | None
    image_sha256: str
    created_at: datetime


async def restore_person(ctx: Context, data: ExportedPerson, collection: str | None) -> PersonRow:
    """The person put back into `collection` (else the key's only one, else default)."""
    person_id = parse_id(data.id, "person")
    existing = await PersonRow.get_or_none(id=person_id)
    if existing is not None:
        if check_visible(ctx, existing) is None:  # another collection's: not this caller's to learn of
            raise not_found("person", data.id)
        return existing
    collection_id = (await chosen(ctx, collection)).id
    # The same checks as createPerson (an export holds values that passed them).
    name, external_id = clean_name(data.name), clean_external_id(data.external_id)
    metadata = clean_metadata(data.metadata)
    await check_external_id_free(external_id, collection_id)
    async with in_transaction():
        await check_room_for_person(collection_id)
        await PersonRow.create(
            id=person_id, collection_id=collection_id, name=name, external_id=external_id, metadata=metadata
        )
        # auto_now fields are set on create; the export's times are put back after it.
        await PersonRow.filter(id=person_id).update(created_at=data.created_at, updated_at=data.updated_at)
    return await PersonRow.get(id=person_id)


def _embedding_bytes(ctx: Context, data: ExportedFace) -> bytes:
    vector = np.asarray(data.embedding, dtype=np.float32)
    if vector.ndim != 1 or not 1 <= vector.size <= 4096 or not np.all(np.isfinite(vector)):
        raise invalid("`embedding` must be a list of 1 to 4096 finite numbers")
    model = ctx.services.models.get(data.model)
    if model is not None and vector.size != model.spec.dimension:
        raise invalid(f"model {data.model} makes {model.spec.dimension}-d embeddings, not {vector.size}-d")
    if abs(float(np.linalg.norm(vector)) - 1.0) > 1e-3:
        raise invalid("`embedding` must have unit length, as exported")
    return vector.astype("<f4").tobytes()


def _crop_bytes(text: str | None) -> bytes:
    if text is None:
        return b""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise invalid("`cropJpegBase64` is not valid base64") from None


async def restore_face(ctx: Context, data: ExportedFace) -> FaceRow:
    face_id = parse_id(data.id, "face")
    existing = await FaceRow.get_or_none(id=face_id)
    if existing is not None:
        if check_visible(ctx, existing) is None:
            raise not_found("face", data.id)
        return existing
    person = await get_person_row(ctx, data.person_id)
    if not _SHA256.match(data.image_sha256):
        raise invalid("`imageSha256` must be 64 lowercase hex digits")
    embedding = _embedding_bytes(ctx, data)
    quality = data.quality
    columns: dict[str, Any] = {
        "embedding": embedding,
        "model": data.model,
        "box_x": data.box.x,
        "box_y": data.box.y,
        "box_width": data.box.width,
        "box_height": data.box.height,
        "detection_score": data.detection_score,
        "detector": data.detector,
        "inter_eye_px": None if quality is None else quality.inter_eye_px,
        "sharpness": None if quality is None else quality.sharpness,
        "yaw_deg": None if quality is None else quality.yaw_deg,
        "roll_deg": None if quality is None else quality.roll_deg,
        "crop_jpeg": _crop_bytes(data.crop_jpeg_base64) if ctx.services.settings.store_face_crops else b"",
        "image_sha256": data.image_sha256,
    }

    async def store() -> FaceRow:
        async with in_transaction():
            if not await PersonRow.filter(id=person.id).exists():
                raise not_found("person", data.person_id)
            await check_room_for_faces(person.collection_id)
            await FaceRow.create(id=face_id, person_id=person.id, collection_id=person.collection_id, **columns)
            await FaceRow.filter(id=face_id).update(created_at=data.created_at)
        row = await FaceRow.get(id=face_id)
        vector = np.frombuffer(embedding, dtype="<f4")
        await ctx.services.search.stored(str(row.id), str(person.id), str(person.collection_id), row.model, vector)
        return row

    return await uninterrupted(store())
