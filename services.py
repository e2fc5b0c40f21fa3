"""Composition: builds the long-lived objects (pipeline, engine, gallery) from settings.

The one place that wires ml/ and models/ together; app.py, the tests and the
benchmarks all build through it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from auth.rate import RateLimits
from ml.detection import make_detector
from ml.embedder import load_embedder
from ml.engine import EngineLimits, FaceEngine
from ml.gallery import Gallery
from ml.image import ImageLimits
from ml.pipeline import FacePipeline
from ml.quality import QualityMinimums
from ml.quiet import native_logs_filtered
from ml.search import FaceIndex
from models import Face
from settings import Settings
from weights import EMBEDDERS, EmbedderSpec
from weights.calibration import Calibration, calibration_of

log = logging.getLogger(__name__)

MAX_THRESHOLD_FMR = 0.01  # the false match rate whose threshold is MAX_THRESHOLD's default


@dataclass
class Services:
    settings: Settings
    engine: FaceEngine
    gallery: FaceIndex  # resolvers search and update it through this interface only
    rate_limits: RateLimits = field(init=False)

    def __post_init__(self) -> None:
        self.rate_limits = RateLimits(self.settings)

    @property
    def spec(self) -> EmbedderSpec:
        return self.engine.pipeline.spec

    @property
    def model_id(self) -> str:
        return self.engine.pipeline.model_id

    @property
    def default_threshold(self) -> float:
        return self.engine.pipeline.default_threshold

    @property
    def quality_minimums(self) -> QualityMinimums:
        return quality_minimums(self.settings)

    @property
    def calibration(self) -> Calibration | None:
        """The model's false match rates on LFW (weights/calibration.json), if measured."""
        return calibration_of(self.model_id)

    @property
    def max_threshold(self) -> float:
        """MAX_THRESHOLD, or the model's threshold at a false match rate of 1 % (its default if uncalibrated)."""
        if self.settings.max_threshold is not None:
            return self.settings.max_threshold
        calibration = self.calibration
        if calibration is None:
            return self.default_threshold
        return max(self.default_threshold, calibration.threshold_for(MAX_THRESHOLD_FMR))


def quality_minimums(settings: Settings) -> QualityMinimums:
    """The enrolment minimums (LOW_QUALITY) that the settings ask for."""
    return QualityMinimums(
        settings.min_inter_eye_px, settings.min_sharpness, settings.max_abs_yaw_deg, settings.min_detection_score
    )


def build_pipeline(settings: Settings) -> FacePipeline:
    """Load the models (checksums first) for the settings' detector."""
    with native_logs_filtered():
        return FacePipeline(
            make_detector(settings.detector, settings.detect_max_side, settings.min_face_size),
            load_embedder(EMBEDDERS[settings.embedder]),
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
    others = await Face.exclude(model=model_id).count()
    if others:
        log.warning(
            "%d stored faces belong to other models and are not searched; re-enrol them with %s (or run the "
            "server with the EMBEDDER and FACE_DETECTOR that made them)",
            others,
            model_id,
        )
    return gallery
