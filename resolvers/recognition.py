"""Every face of a photo (detect, recognise), and search by a client's own embedding."""

from __future__ import annotations

import numpy as np

from bounds import FACES_PER_PHOTO_MAX
from errors import invalid
from resolvers.context import Context
from resolvers.images import read_image
from resolvers.mapping import detected_face_type
from resolvers.verification import Question, answer
from schema.inputs import ImageInput
from schema.types import DetectedFace, Verification


async def detect_faces(ctx: Context, image: ImageInput) -> list[DetectedFace]:
    data = await read_image(image, ctx.services.settings.max_image_bytes)
    faces = await ctx.services.engine.locate_all(data, FACES_PER_PHOTO_MAX)
    return [detected_face_type(face) for face in faces]


async def recognize_faces(ctx: Context, image: ImageInput, asked: Question) -> list[Verification]:
    data = await read_image(image, ctx.services.settings.max_image_bytes)
    results = await ctx.services.engine.embed_all(data, FACES_PER_PHOTO_MAX)
    return [await answer(ctx, result.vector, asked, None, detected_face_type(result.face)) for result in results]


def _unit_vector(values: list[float], dimension: int) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float64)
    if vector.shape != (dimension,):
        raise invalid(f"`vector` must have {dimension} numbers for this model, not {vector.size}")
    norm = float(np.linalg.norm(vector))
    if not np.isfinite(norm) or norm == 0.0:
        raise invalid("`vector` must be finite and not all zeros")
    return (vector / norm).astype(np.float32)


async def search_by_embedding(ctx: Context, vector: list[float], model: str, asked: Question) -> Verification:
    if model != ctx.services.model_id:
        raise invalid(f"the vector is of model {model!r}; this server searches {ctx.services.model_id!r} (see `model`)")
    return await answer(ctx, _unit_vector(vector, ctx.services.spec.dimension), asked, None, None)
