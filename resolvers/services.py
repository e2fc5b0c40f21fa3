"""The long-lived objects the resolvers share: settings, the engine and the gallery."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from ml.detection import make_detector
from ml.embedder import FaceNetEmbedder
from ml.engine import EngineLimits, FaceEngine
from ml.gallery import Gallery
from ml.image import ImageLimits
from ml.pipeline import FacePipeline
from models import Face
from settings import Settings
from weights import EMBEDDER, EmbedderSpec

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    engine: FaceEngine
    gallery: Gallery

    @property
    def spec(self) -> EmbedderSpec:
        return self.engine.pipeline.spec

    @property
    def model_id(self) -> str:
        return self.engine.pipeline.model_id

    @property
    def default_threshold(self) -> float:
        return self.engine.pipeline.default_threshold


def build_pipeline(settings: Settings) -> FacePipeline:
    """Load the models (checksums first) for the settings' detector."""
    return FacePipeline(
        make_detector(settings.detector, settings.detect_max_side, settings.min_face_size),
        FaceNetEmbedder(EMBEDDER),
        ImageLimits(settings.max_image_bytes, settings.max_image_pixels),
    )


def build_engine(settings: Settings, pipeline: FacePipeline) -> FaceEngine:
    return FaceEngine(
        pipeline,
        EngineLimits(
            max_batch=settings.max_batch,
            batch_wait_ms=settings.batch_wait_ms,
            max_pending=settings.max_pending,
            detect_workers=settings.detect_workers,
        ),
    )


async def load_gallery(model_id: str, dimension: int, chunk: int = 20_000) -> Gallery:
    """Every stored face made by this model, read from the database into memory.

    Read in chunks (keyset on id) into one preallocated matrix, so that a large
    gallery never sits in memory twice.
    """
    started = time.perf_counter()
    faces = Face.filter(model=model_id)
    gallery = Gallery(dimension)
    gallery.reserve(await faces.count())
    last_id = None
    while True:
        page = faces if last_id is None else faces.filter(id__gt=last_id)
        rows = await page.order_by("id").limit(chunk).values_list("id", "person_id", "embedding")
        if not rows:
            break
        vectors = np.frombuffer(b"".join(row[2] for row in rows), dtype="<f4")
        gallery.extend([str(row[0]) for row in rows], [str(row[1]) for row in rows], vectors)
        last_id = rows[-1][0]
    log.info("gallery: %d faces loaded in %.2f s", len(gallery), time.perf_counter() - started)
    return gallery
