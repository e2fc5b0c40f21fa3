"""Composition: builds the long-lived objects (pipeline, engine, search backend) from settings.

The one place that wires ml/ and models/ together; app.py, the tests and the
benchmarks all build through it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from threadpoolctl import threadpool_limits

from auth.rate import RateLimits
from auth.slots import StreamSlots
from ml.detection import make_detector
from ml.embedder import Runtime, load_embedder
from ml.engine import EngineLimits, FaceEngine
from ml.image import ImageLimits
from ml.pipeline import FacePipeline
from ml.quality import QualityMinimums
from ml.quiet import native_logs_filtered
from search import FaceSearch, MemorySearch, PgvectorSearch
from settings import Settings
from weights import EMBEDDERS, EmbedderSpec
from weights.calibration import Calibration, calibration_of

log = logging.getLogger(__name__)

MAX_THRESHOLD_FMR = 0.01  # the false match rate whose threshold is MAX_THRESHOLD's default


@dataclass
class Services:
    settings: Settings
    engine: FaceEngine
    search: FaceSearch  # resolvers search and update it through this interface only
    rate_limits: RateLimits = field(init=False)
    live_slots: StreamSlots = field(init=False)  # liveRecognition streams, all connections together

    def __post_init__(self) -> None:
        self.rate_limits = RateLimits(self.settings)
        self.live_slots = StreamSlots(self.settings.live_streams_max, self.settings.live_streams_per_key)

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
            load_embedder(EMBEDDERS[settings.embedder], Runtime(settings.embedder_runtime)),
            ImageLimits(settings.max_image_bytes, settings.max_image_pixels),
        )


def build_engine(settings: Settings, pipeline: FacePipeline) -> FaceEngine:
    # One BLAS thread: the gallery's matrix-vector product is bound by memory, not by
    # cores, and OpenBLAS's idle threads spin after each one, taking the cores from the
    # next photo's models (bench-perf: verifyLinear at 10k faces, p50 81 -> 54 ms).
    threadpool_limits(1, user_api="blas")
    return FaceEngine(
        pipeline,
        EngineLimits(
            max_batch=settings.max_batch,
            batch_wait_ms=settings.batch_wait_ms,
            max_pending=settings.max_pending,
            detect_workers=settings.detect_workers,
        ),
    )


def build_search(settings: Settings, model_id: str, dimension: int) -> FaceSearch:
    """The SEARCH_BACKEND for this model; on PostgreSQL, memory search follows the other replicas' changes."""
    if settings.search_backend == "pgvector":
        return PgvectorSearch(settings.database_url, model_id, dimension, settings.hnsw_ef_search)
    return MemorySearch(model_id, dimension, follow_url=settings.database_url if settings.on_postgres else None)
