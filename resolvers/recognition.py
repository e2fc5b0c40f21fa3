"""Every face of a photo (detect, embed, recognise), and search by a client's own embedding."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bounds import FACES_PER_PHOTO_MAX
from errors import invalid
from ml.pipeline import FaceEmbedding, LocatedFace
from resolvers.collections import loaded_model
from resolvers.context import Context
from resolvers.images import Photo, read_image
from resolvers.verification import SearchOptions, Verdict, verify_embedding


async def detect_faces(ctx: Context, image: Photo) -> list[LocatedFace]:
    """Every face of the photo, cut as the default model's recipe cuts it."""
    data = await read_image(image, ctx.services.settings.max_image_bytes)
    return await ctx.services.engine.locate_all(data, FACES_PER_PHOTO_MAX)


@dataclass(frozen=True)
class ProbeEmbeddings:
    """Every face of a photo embedded, and the model that made the vectors."""

    model: str
    faces: list[FaceEmbedding]


async def embed_faces(ctx: Context, image: Photo, model: str | None) -> ProbeEmbeddings:
    """Every face's embedding by `model` (an id or EMBEDDERS name; None: the default), stored and searched nowhere."""
    chosen = loaded_model(ctx, model).id
    data = await read_image(image, ctx.services.settings.max_image_bytes)
    return ProbeEmbeddings(chosen, await ctx.services.engine.embed_all(data, FACES_PER_PHOTO_MAX, chosen))


async def recognize_faces(ctx: Context, image: Photo, options: SearchOptions) -> list[Verdict]:
    data = await read_image(image, ctx.services.settings.max_image_bytes)
    results = await ctx.services.engine.embed_all(data, FACES_PER_PHOTO_MAX, options.model)
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
    if model != options.model:
        raise invalid(
            f"the vector is of model {model!r}; this collection is searched by {options.model!r} (see `model`)"
        )
    dimension = ctx.services.model(options.model).spec.dimension
    return await verify_embedding(ctx, _unit_vector(vector, dimension), options, None, None)
