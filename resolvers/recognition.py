"""Every face of a photo (detect, embed, recognise), and search by a client's own embedding."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bounds import FACES_PER_PHOTO_MAX
from errors import invalid
from ml.pipeline import FaceEmbedding, LocatedFace
from resolvers.context import Context
from resolvers.images import Photo, read_image
from resolvers.verification import SearchOptions, Verdict, verify_embedding


async def detect_faces(ctx: Context, image: Photo) -> list[LocatedFace]:
    data = await read_image(image, ctx.services.settings.max_image_bytes)
    return await ctx.services.engine.locate_all(data, FACES_PER_PHOTO_MAX)


@dataclass(frozen=True)
class ProbeEmbeddings:
    """Every face of a photo embedded, and the model that made the vectors."""

    model: str
    faces: list[FaceEmbedding]


async def embed_faces(ctx: Context, image: Photo) -> ProbeEmbeddings:
    """Every face's embedding, stored and searched nowhere."""
    data = await read_image(image, ctx.services.settings.max_image_bytes)
    return ProbeEmbeddings(ctx.services.model_id, await ctx.services.engine.embed_all(data, FACES_PER_PHOTO_MAX))


async def recognize_faces(ctx: Context, image: Photo, options: SearchOptions) -> list[Verdict]:
    data = await read_image(image, ctx.services.settings.max_image_bytes)
    results = await ctx.services.engine.embed_all(data, FACES_PER_PHOTO_MAX)
    return [await verify_embedding(ctx, result.vector, options, None, result.face) for result in results]


def _unit_vector(values: list[float], dimension: int) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float64)
    if vector.shape != (dimension,):
        raise invalid(f"`vector` must have {dimension} numbers for this model, not {vector.size}")
    norm = float(np.linalg.norm(vector))
    if not np.isfinite(norm) or norm == 0.0:
        raise invalid("`vector` must be finite and not all zeros")
    return (vector / norm).astype(np.float32)


async def search_by_embedding(ctx: Context, vector: list[float], model: str, options: SearchOptions) -> Verdict:
    if model != ctx.services.model_id:
        raise invalid(f"the vector is of model {model!r}; this server searches {ctx.services.model_id!r} (see `model`)")
    return await verify_embedding(ctx, _unit_vector(vector, ctx.services.spec.dimension), options, None, None)
