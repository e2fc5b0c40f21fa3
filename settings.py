"""Every runtime setting of the service, read once from the environment.

This module is the one place that owns a setting's name, its default and its
bounds; everything else asks the `Settings` object it is handed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MB = 1024 * 1024

# Fixed bounds of the API, named in its documentation; not tunable per deployment.
NAME_MAX = 200  # characters of a person's name
EXTERNAL_ID_MAX = 200  # characters of a person's externalId
METADATA_MAX_BYTES = 16 * 1024  # a person's metadata, as JSON
PAGE_SIZE_MAX = 500  # `first` of persons and faces
SEARCH_LIMIT_MAX = 100  # `limit` of verifyLinear, and faces compared by verifyPerson


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return default if raw in (None, "") else float(raw)


def _env_list(name: str, default: str) -> tuple[str, ...]:
    raw = os.environ.get(name, default)
    return tuple(part.strip() for part in raw.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("data")
    database_url: str = ""  # empty: an SQLite file under data_dir
    cors_origins: tuple[str, ...] = ()
    detector: str = "mtcnn"  # "mtcnn" or "haar"
    max_image_bytes: int = 10 * MB
    max_image_pixels: int = 40_000_000
    # The detector sees a copy whose longer side is at most this many pixels;
    # boxes are mapped back to the original, so results stay in its coordinates.
    detect_max_side: int = 640
    min_face_size: int = 20
    # Micro-batching of the embedder: concurrent requests share one model call. A face
    # waits for company only while other photos are still in detection (bench/perf.py).
    max_batch: int = 32
    batch_wait_ms: float = 100.0
    # Back-pressure: photos waiting for the models beyond this fail at once with BUSY.
    max_pending: int = 64
    detect_workers: int = 2

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite://{self.data_dir / 'faces.sqlite3'}"

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            host=os.environ.get("HOST", cls.host),
            port=_env_int("PORT", cls.port),
            data_dir=Path(os.environ.get("DATA_DIR", str(cls.data_dir))),
            database_url=os.environ.get("DATABASE_URL", ""),
            cors_origins=_env_list("CORS_ORIGINS", ""),
            detector=os.environ.get("FACE_DETECTOR", cls.detector).lower(),
            max_image_bytes=_env_int("MAX_IMAGE_BYTES", cls.max_image_bytes),
            max_image_pixels=_env_int("MAX_IMAGE_PIXELS", cls.max_image_pixels),
            detect_max_side=_env_int("DETECT_MAX_SIDE", cls.detect_max_side),
            min_face_size=_env_int("MIN_FACE_SIZE", cls.min_face_size),
            max_batch=_env_int("EMBED_MAX_BATCH", cls.max_batch),
            batch_wait_ms=_env_float("EMBED_BATCH_WAIT_MS", cls.batch_wait_ms),
            max_pending=_env_int("MAX_PENDING", cls.max_pending),
            detect_workers=_env_int("DETECT_WORKERS", cls.detect_workers),
        )
