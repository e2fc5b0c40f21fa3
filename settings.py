"""Every runtime setting of the service, read once from the environment.

This module is the one place that owns a setting's environment name, its default
and its bounds; everything else asks the `Settings` object it is handed. Values are
parsed and checked by pydantic: a bad one fails at start-up with its name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

import limits
from dotenv import dotenv_values
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from search.registry import DEFAULT_SEARCH_BACKEND, SEARCH_BACKENDS
from weights.manifest import DEFAULT_DETECTOR, DEFAULT_EMBEDDER, EMBEDDERS
from weights.store import DEFAULT_DIR as DEFAULT_WEIGHTS_DIR

MB = 1024 * 1024

ADMIN_API_KEY_MIN = 16  # characters of an ADMIN_API_KEY
ENV_FILE = Path(".env")  # read by the server at start (`python app.py`, `faceid serve`), under the environment
SECRET_SETTINGS = {"ADMIN_API_KEY", "METRICS_TOKEN"}  # never echoed in error messages


POSTGRES_SCHEMES = ("postgres://", "postgresql://", "asyncpg://")  # DATABASE_URLs served by asyncpg


def is_postgres(url: str) -> bool:
    return url.startswith(POSTGRES_SCHEMES)


class SettingsError(ValueError):
    """One or more environment variables are unusable; the message names each."""


def _comma_list(value: object) -> object:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


class Settings(BaseModel):
    """Each field's alias is its environment variable (see the README's table)."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_by_name=True, validate_by_alias=True)

    host: str = Field("127.0.0.1", alias="HOST", min_length=1)
    port: int = Field(8000, alias="PORT", ge=1, le=65535)
    data_dir: Path = Field(Path("data"), alias="DATA_DIR")
    database_url: str = Field("", alias="DATABASE_URL")  # empty: an SQLite file under data_dir
    # Where 1:K search runs (search/registry.py): an in-memory matrix per replica, or PostgreSQL itself.
    search_backend: Annotated[str, BeforeValidator(_lower)] = Field(DEFAULT_SEARCH_BACKEND, alias="SEARCH_BACKEND")
    # Candidates the HNSW index visits per approximate search (pgvector's hnsw.ef_search): recall against speed.
    hnsw_ef_search: int = Field(100, alias="HNSW_EF_SEARCH", ge=10, le=1000)
    # A collection of at most this many faces is searched exactly even with `exact: false` (search/pgvector.py).
    hnsw_min_faces: int = Field(20_000, alias="HNSW_MIN_FACES", ge=0)
    cors_origins: Annotated[tuple[str, ...], BeforeValidator(_comma_list)] = Field((), alias="CORS_ORIGINS")
    # ml.detection.DETECTORS has the same names (tests/test_settings.py checks it).
    detector: Annotated[Literal["mtcnn", "haar", "yunet", "yunet-int8", "yunet-onet"], BeforeValidator(_lower)] = Field(
        DEFAULT_DETECTOR, alias="FACE_DETECTOR"
    )
    embedder: Annotated[str, BeforeValidator(_lower)] = Field(DEFAULT_EMBEDDER, alias="EMBEDDER")
    # Embedders loaded beside EMBEDDER (which new collections and `default` use): a collection may be pinned
    # to any of them (`createCollection(model:)`), and `reembedCollection` moves a collection between them.
    # Each costs its memory and load time.
    embedders: Annotated[tuple[str, ...], BeforeValidator(_comma_list), BeforeValidator(_lower)] = Field(
        (), alias="EMBEDDERS"
    )
    # Where `make install` put the weights it fetched and converted (weights/store.py); give the
    # install commands the same folder (`make install WEIGHTS_DIR=...` passes it as --dir).
    weights_dir: Path = Field(DEFAULT_WEIGHTS_DIR, alias="WEIGHTS_DIR")
    # ml.embedder.Runtime has the same names; auto: LiteRT (XNNPACK) for every model that converts at install,
    # except a FaceNet on TensorFlow when it sees a GPU; sface-int8 on OpenCV, which runs it alone.
    embedder_runtime: Annotated[Literal["auto", "litert", "tensorflow", "opencv"], BeforeValidator(_lower)] = Field(
        "auto", alias="EMBEDDER_RUNTIME"
    )
    max_image_bytes: int = Field(10 * MB, alias="MAX_IMAGE_BYTES", ge=1024)
    max_image_pixels: int = Field(40_000_000, alias="MAX_IMAGE_PIXELS", ge=10_000)
    # The detector sees a copy whose longer side is at most this many pixels;
    # boxes are mapped back to the original, so results stay in its coordinates.
    detect_max_side: int = Field(640, alias="DETECT_MAX_SIDE", ge=64)
    min_face_size: int = Field(20, alias="MIN_FACE_SIZE", ge=12)  # MTCNN's P-Net sees 12 px at the least
    # Micro-batching of the embedder: concurrent requests share one model call. A face
    # waits for company only while other photos are still in detection (bench/perf).
    max_batch: int = Field(32, alias="EMBED_MAX_BATCH", ge=1, le=1024)
    batch_wait_ms: float = Field(100.0, alias="EMBED_BATCH_WAIT_MS", ge=0, le=10_000)
    # Back-pressure: photos waiting for the models beyond this fail at once with BUSY.
    max_pending: int = Field(64, alias="MAX_PENDING", ge=1)
    detect_workers: int = Field(2, alias="DETECT_WORKERS", ge=1, le=256)
    # Live recognition (liveRecognition): a camera's faces are large, and a larger smallest face
    # halves MTCNN's image pyramid; streams open at once on this server, all connections together.
    live_min_face_size: int = Field(40, alias="LIVE_MIN_FACE_SIZE", ge=12)
    live_streams_max: int = Field(8, alias="LIVE_STREAMS_MAX", ge=0, le=1024)
    live_streams_per_key: int = Field(2, alias="LIVE_STREAMS_PER_KEY", ge=1, le=1024)
    # A stream with no frame for this long is closed (its slot goes back).
    live_idle_timeout_s: float = Field(30.0, alias="LIVE_IDLE_TIMEOUT_S", gt=0)
    # Enrolment refuses a face below these (LOW_QUALITY) unless the caller allows it;
    # bench/accuracy.py reports how many LFW faces each rejects and what the rest reach.
    # Guards against unusable faces, not a passport-photo standard: the small, soft and
    # turned web photos in five-celebrity (down to 10 px between the eyes) still pass.
    min_inter_eye_px: float = Field(10.0, alias="MIN_INTER_EYE_PX", ge=0)
    min_sharpness: float = Field(8.0, alias="MIN_SHARPNESS", ge=0)
    max_abs_yaw_deg: float = Field(60.0, alias="MAX_ABS_YAW_DEG", ge=0, le=90)
    min_detection_score: float = Field(0.9, alias="MIN_DETECTION_SCORE", ge=0, le=1)

    # Access control (auth/). AUTH=off grants every caller every scope: local experiments only.
    auth: Annotated[Literal["on", "off"], BeforeValidator(_lower)] = Field("on", alias="AUTH")
    # An admin key given by the environment (the way database images take their first password).
    admin_api_key: str = Field("", alias="ADMIN_API_KEY", repr=False)
    # A bearer token that reads /metrics and nothing else (a Prometheus scraper's); empty: ADMIN keys only.
    metrics_token: str = Field("", alias="METRICS_TOKEN", repr=False)
    # Per-key limits on the calls that run the models, in the `limits` notation ("60/minute").
    rate_limit_verify: str = Field("120/minute", alias="RATE_LIMIT_VERIFY")
    rate_limit_enrol: str = Field("60/minute", alias="RATE_LIMIT_ENROL")
    # sendLiveFrame, per key: a camera at 15 frames/s, with room.
    rate_limit_live_frames: str = Field("1200/minute", alias="RATE_LIMIT_LIVE_FRAMES")
    # The farthest distance a caller may ask to match at, and beyond which candidates are only
    # shown to the biometrics scope. None: the model's threshold at a false match rate of 1 %.
    max_threshold: float | None = Field(None, alias="MAX_THRESHOLD", gt=0, le=2)
    # How often the false match rates are refitted to the gallery's own pairs (search/calibration.py);
    # 0: LFW's table alone, whatever the gallery holds.
    gallery_calibration_interval_s: float = Field(300.0, alias="GALLERY_CALIBRATION_INTERVAL_S", ge=0)
    # "json": one JSON object a line (time, level, logger, request_id, message, and an operation's fields).
    log_format: Annotated[Literal["text", "json"], BeforeValidator(_lower)] = Field("text", alias="LOG_FORMAT")
    store_face_crops: bool = Field(True, alias="STORE_FACE_CROPS")
    audit_retention_days: int = Field(90, alias="AUDIT_RETENTION_DAYS", ge=1)
    graphiql: bool = Field(True, alias="GRAPHIQL")
    introspection: bool = Field(True, alias="INTROSPECTION")

    # Limits at the edge (app.py, web/middleware.py, schema/limits.py).
    allowed_hosts: Annotated[tuple[str, ...], BeforeValidator(_comma_list)] = Field(
        ("localhost", "127.0.0.1", "[::1]"), alias="ALLOWED_HOSTS"
    )
    # Cost of one operation: a field costs 1, a face crop 10, lists multiply through nesting.
    max_query_cost: int = Field(50_000, alias="MAX_QUERY_COST", ge=10)
    max_response_bytes: int = Field(32 * MB, alias="MAX_RESPONSE_BYTES", ge=64 * 1024)
    header_timeout_s: float = Field(10.0, alias="HEADER_TIMEOUT_S", gt=0)  # to receive a request's headers
    body_timeout_s: float = Field(30.0, alias="BODY_TIMEOUT_S", gt=0)  # to receive the whole body
    request_timeout_s: float = Field(120.0, alias="REQUEST_TIMEOUT_S", gt=0)  # to answer, body included

    @field_validator("embedder", "search_backend")
    @classmethod
    def _registered(cls, value: str, info: ValidationInfo) -> str:
        """A name of its registry: the embedders of weights/manifest.py, the backends of search/registry.py."""
        known = EMBEDDERS if info.field_name == "embedder" else SEARCH_BACKENDS
        if value not in known:
            raise ValueError(f"no such {str(info.field_name).replace('_', ' ')}; choose {', '.join(sorted(known))}")
        return value

    @field_validator("embedders")
    @classmethod
    def _registered_embedders(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if unknown := [name for name in value if name not in EMBEDDERS]:
            raise ValueError(f"no such embedder: {', '.join(unknown)}; choose {', '.join(sorted(EMBEDDERS))}")
        return value

    @property
    def loaded_embedders(self) -> tuple[str, ...]:
        """EMBEDDER first (the default), then the rest of EMBEDDERS, each once."""
        return tuple(dict.fromkeys((self.embedder, *self.embedders)))

    @field_validator("admin_api_key", "metrics_token")
    @classmethod
    def _long_enough(cls, value: str) -> str:
        if value and len(value) < ADMIN_API_KEY_MIN:
            raise ValueError(f"must be at least {ADMIN_API_KEY_MIN} characters (use a random string)")
        return value

    @field_validator("rate_limit_verify", "rate_limit_enrol", "rate_limit_live_frames")
    @classmethod
    def _rate(cls, value: str) -> str:
        try:
            limits.parse(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate such as '60/minute' or '10/second'") from None
        return value

    @model_validator(mode="after")
    def _backend_has_its_database(self) -> Settings:
        backend = SEARCH_BACKENDS.get(self.search_backend)
        if backend is not None and backend.needs_postgres and not self.on_postgres:
            raise ValueError(f"SEARCH_BACKEND={self.search_backend} needs a PostgreSQL DATABASE_URL (postgres://...)")
        return self

    @property
    def on_postgres(self) -> bool:
        return is_postgres(self.database_url)

    @property
    def sqlite_file(self) -> Path:
        """The SQLite database of DATA_DIR (used when DATABASE_URL is empty)."""
        return self.data_dir / "faces.sqlite3"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        # secure_delete: SQLite overwrites deleted rows (faces, crops) instead of only unlinking them.
        return f"sqlite://{self.sqlite_file}?secure_delete=ON"

    @property
    def admin_key_file(self) -> Path:
        """Where the first start writes the admin key it creates (mode 0600)."""
        return self.data_dir / "admin-api-key"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ, env_file: Path | None = None) -> Settings:
        """The settings the environment gives (unset or empty variables keep their defaults), over those of
        `env_file` (a `.env` file of NAME=value lines) when it exists: the environment wins."""
        if env_file is not None and env_file.is_file():
            from_file = {name: value for name, value in dotenv_values(env_file).items() if value is not None}
            environ = {**from_file, **environ}
        names = {field.alias for field in cls.model_fields.values()}
        given = {name: value for name, value in environ.items() if name in names and value != ""}
        try:
            return cls.model_validate(given)
        except ValidationError as exc:
            problems = [
                f"{_shown(str(error['loc'][0]), given)}: {error['msg']}"
                if error["loc"]
                else error["msg"].removeprefix("Value error, ")
                for error in exc.errors()
            ]
            raise SettingsError("bad setting: " + "; ".join(problems)) from None


def _shown(name: str, given: Mapping[str, str]) -> str:
    """NAME='value' for an error message; a secret's value is not shown."""
    return f"{name}=<hidden>" if name in SECRET_SETTINGS else f"{name}={given.get(name, '')!r}"
