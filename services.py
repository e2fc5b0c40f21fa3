"""The composition root: builds the server's long-lived objects from the settings.

The models (ml/), a search backend and a threshold policy per model (search/), the
rate limits and stream slots (auth/) are made here once, and handed to every resolver
as `info.context.services`; app.py, the tests and the benchmarks all build through
these functions. A server may load several embedding models (EMBEDDERS): every
collection is pinned to one, and is embedded, searched and thresholded by that one.
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
from search.by_model import ModelSearches
from search.registry import SEARCH_BACKENDS, SearchPlace
from search.thresholds import Thresholds
from settings import Settings
from telemetry import Telemetry
from weights import EMBEDDERS, EmbedderSpec

log = logging.getLogger(__name__)


class ModelNotLoaded(LookupError):
    """A model id this server has not loaded (EMBEDDERS)."""


@dataclass(frozen=True)
class LoadedModel:
    """One embedding model as the service uses it: its facts, its faces' search, and where `match` is cut off."""

    id: str
    spec: EmbedderSpec
    search: FaceSearch
    thresholds: Thresholds


@dataclass
class Services:
    settings: Settings
    engine: FaceEngine
    search: ModelSearches  # every model's backend; resolvers search and update them through it only
    rate_limits: RateLimits = field(init=False)
    live_slots: StreamSlots = field(init=False)  # liveRecognition streams, all connections together
    models: dict[str, LoadedModel] = field(init=False)  # by model id, the default first
    quality_minimums: QualityMinimums = field(init=False)  # what enrolment refuses as LOW_QUALITY
    jobs: object | None = None  # resolvers.jobs.JobRunner, once the app has started it
    telemetry: Telemetry = field(default_factory=Telemetry)  # the Prometheus metrics of /metrics

    def __post_init__(self) -> None:
        self.rate_limits = RateLimits(self.settings)
        self.live_slots = StreamSlots(self.settings.live_streams_max, self.settings.live_streams_per_key)
        self.models = {}
        for model_id in self.engine.models:
            pipeline = self.engine.pipeline_of(model_id)
            thresholds = Thresholds.of(
                model_id,
                pipeline.default_threshold,
                self.settings.max_threshold,
                self.settings.gallery_calibration_interval_s,
            )
            self.models[model_id] = LoadedModel(model_id, pipeline.spec, self.search.of(model_id), thresholds)
        self.quality_minimums = quality_minimums(self.settings)
        self.engine.stats.observer = self.telemetry.stage

    @property
    def model_id(self) -> str:
        """The default model: new collections' unless they name another, and `default`'s."""
        return self.engine.pipeline.model_id

    def model(self, model_id: str | None = None) -> LoadedModel:
        """A loaded model (None: the default); ModelNotLoaded for another."""
        try:
            return self.models[model_id or self.model_id]
        except KeyError:
            raise ModelNotLoaded(model_id) from None

    def start_calibrations(self) -> None:
        for model in self.models.values():
            model.thresholds.gallery.start(model.search)

    async def close_calibrations(self) -> None:
        for model in self.models.values():
            await model.thresholds.gallery.close()


def quality_minimums(settings: Settings) -> QualityMinimums:
    """The enrolment minimums (LOW_QUALITY) that the settings ask for."""
    return QualityMinimums(
        settings.min_inter_eye_px, settings.min_sharpness, settings.max_abs_yaw_deg, settings.min_detection_score
    )


def build_pipeline(settings: Settings) -> FacePipeline:
    """Load the default model (checksums first) for the settings' detector."""
    return build_pipelines(settings)[0]


def build_pipelines(settings: Settings, embedders: tuple[str, ...] | None = None) -> list[FacePipeline]:
    """A pipeline per embedder (default: the settings' loaded ones, the default first), all sharing one detector."""
    with native_logs_filtered():
        detector = make_detector(
            settings.detector, settings.detect_max_side, settings.min_face_size, settings.weights_dir
        )
        limits = ImageLimits(settings.max_image_bytes, settings.max_image_pixels)
        runtime = Runtime(settings.embedder_runtime)
        return [
            FacePipeline(detector, load_embedder(EMBEDDERS[name], runtime, settings.weights_dir), limits)
            for name in embedders or settings.loaded_embedders
        ]


def build_engine(settings: Settings, pipelines: FacePipeline | list[FacePipeline]) -> FaceEngine:
    # One BLAS thread: the gallery's matrix-vector product is bound by memory, not by
    # cores, and OpenBLAS's idle threads spin after each one, taking the cores from the
    # next photo's models (bench-perf: verifyLinear at 10k faces, p50 81 -> 54 ms).
    threadpool_limits(1, user_api="blas")
    return FaceEngine(
        pipelines,
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


def build_searches(settings: Settings, engine: FaceEngine) -> ModelSearches:
    """A SEARCH_BACKEND for each model the engine has loaded."""
    return ModelSearches(
        {
            model_id: build_search(settings, model_id, engine.pipeline_of(model_id).spec.dimension)
            for model_id in engine.models
        }
    )
