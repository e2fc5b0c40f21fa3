"""The composition root: builds the server's long-lived objects from the settings.

The models (ml/), the search backend (search/), the rate limits and stream slots
(auth/) and the threshold policy (search/thresholds.py) are made here once, and
handed to every resolver as `info.context.services`; app.py, the tests and the
benchmarks all build through these functions.
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
from search.base import FaceSearch
from search.registry import SEARCH_BACKENDS, SearchPlace
from search.thresholds import Thresholds
from settings import Settings
from weights import EMBEDDERS, EmbedderSpec

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    engine: FaceEngine
    search: FaceSearch  # resolvers search and update it through this interface only
    rate_limits: RateLimits = field(init=False)
    live_slots: StreamSlots = field(init=False)  # liveRecognition streams, all connections together
    thresholds: Thresholds = field(init=False)  # where `match` is cut off, for this model
    quality_minimums: QualityMinimums = field(init=False)  # what enrolment refuses as LOW_QUALITY

    def __post_init__(self) -> None:
        self.rate_limits = RateLimits(self.settings)
        self.live_slots = StreamSlots(self.settings.live_streams_max, self.settings.live_streams_per_key)
        pipeline = self.engine.pipeline
        self.thresholds = Thresholds.of(
            pipeline.model_id,
            pipeline.default_threshold,
            self.settings.max_threshold,
            self.settings.gallery_calibration_interval_s,
        )
        self.quality_minimums = quality_minimums(self.settings)

    @property
    def spec(self) -> EmbedderSpec:
        return self.engine.pipeline.spec

    @property
    def model_id(self) -> str:
        return self.engine.pipeline.model_id


def quality_minimums(settings: Settings) -> QualityMinimums:
    """The enrolment minimums (LOW_QUALITY) that the settings ask for."""
    return QualityMinimums(
        settings.min_inter_eye_px, settings.min_sharpness, settings.max_abs_yaw_deg, settings.min_detection_score
    )


def build_pipeline(settings: Settings) -> FacePipeline:
    """Load the models (checksums first) for the settings' detector."""
    with native_logs_filtered():
        return FacePipeline(
            make_detector(settings.detector, settings.detect_max_side, settings.min_face_size, settings.weights_dir),
            load_embedder(EMBEDDERS[settings.embedder], Runtime(settings.embedder_runtime), settings.weights_dir),
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
    """The SEARCH_BACKEND for this model (search/registry.py)."""
    place = SearchPlace(
        model_id,
        dimension,
        settings.resolved_database_url,
        settings.on_postgres,
        settings.hnsw_ef_search,
        settings.hnsw_min_faces,
    )
    return SEARCH_BACKENDS[settings.search_backend].build(place)
