"""The stages that run through the server: enrolment, search on growing galleries with the overload, and the
peer like for like with memory under a mixed load. Each returns what the report needs."""

from __future__ import annotations

import asyncio
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.live import Run as LiveRun
from bench.live import measure as measure_live
from bench.perf.gallery import fill_gallery
from bench.perf.load import (
    create_person,
    drive,
    mixed_load,
    overload_run,
    percentiles,
    server_stats,
    spread,
)
from bench.perf.plan import (
    CONCURRENCY,
    CREATE_FACE,
    EMBEDDER,
    GALLERY_SIZES,
    MIXED_REQUESTS,
    REPEATS,
    SET_CONCURRENCY,
    VERIFY,
)
from bench.perf.sets import peer_pool, peer_rate
from devdata.server import ServerProcess, running


@dataclass
class Enrolment:
    rows: list[list[str]] = field(default_factory=list)
    faces_per_embed_second: dict[int, list[float]] = field(default_factory=dict)  # per concurrency
    batch_at_top: list[float] = field(default_factory=list)  # mean embedder batch at the top concurrency
    detect_share_at_top: list[float] = field(default_factory=list)
    baseline_rss: float = 0.0  # MB after start-up
    after_rss: float = 0.0  # MB after the enrolment runs


def enrolment(server: ServerProcess, photos: list[bytes]) -> Enrolment:
    """createFace at each concurrency, REPEATS times, into a fresh person each time."""
    result = Enrolment()
    with running(server):
        result.baseline_rss = server.rss_mb()
        for concurrency in CONCURRENCY:
            print(f"enrolment at concurrency {concurrency} ...", flush=True)
            rates, latencies, stats_runs, failures = [], [], [], 0
            for repeat in range(REPEATS):
                person = create_person(server, f"enrol c{concurrency} r{repeat}")
                server_stats(server, reset=True)
                wall, lat, bodies = asyncio.run(drive(server, CREATE_FACE, photos, concurrency, p=person))
                failures += sum("errors" in body for body in bodies)
                rates.append(len(photos) / wall)
                latencies += lat
                stats_runs.append(server_stats(server)["stages"])
            embed = [s["embed"] for s in stats_runs]
            faces_per_embed_second = [e["items"] / e["total_s"] for e in embed]
            batch_size = [e["items"] / e["calls"] for e in embed]
            result.faces_per_embed_second[concurrency] = faces_per_embed_second
            result.rows.append(
                [
                    str(concurrency),
                    spread(rates, "{:.2f}"),
                    percentiles(latencies),
                    spread(batch_size, "{:.1f}"),
                    spread(faces_per_embed_second),
                    str(failures),
                ]
            )
            if concurrency == CONCURRENCY[-1]:
                result.batch_at_top = batch_size
                result.detect_share_at_top = [
                    s["detect"]["total_s"] / (s["detect"]["total_s"] + s["embed"]["total_s"]) for s in stats_runs
                ]
        result.after_rss = server.rss_mb()
    return result


@dataclass
class Search:
    rows: list[list[str]] = field(default_factory=list)
    memory_rows: list[list[str]] = field(default_factory=list)
    search_p50: dict[int, float] = field(default_factory=dict)  # ms, per gallery size
    verify_p50: dict[int, float] = field(default_factory=dict)
    rss: dict[int, float] = field(default_factory=dict)
    overload: dict[str, Any] = field(default_factory=dict)
    health: dict[str, Any] = field(default_factory=dict)  # the last start's /healthz


def search(server: ServerProcess, database_url: str, probes: list[bytes]) -> Search:
    """verifyLinear on galleries of GALLERY_SIZES faces (filled with synthetic rows), then the overload."""
    result = Search()
    for size in GALLERY_SIZES:
        print(f"gallery of {size} ...", flush=True)
        fill_s = asyncio.run(fill_gallery(database_url, size))
        with running(server) as health:
            result.health = health
            assert health["faces"] == size, health
            server_stats(server, reset=True)
            latencies = []
            for _ in range(REPEATS):
                _, lat, bodies = asyncio.run(drive(server, VERIFY, probes, 1))
                assert all("errors" not in body for body in bodies), bodies[:2]
                latencies += lat
            found = server_stats(server)["stages"]["search"]
            result.search_p50[size] = found["p50_ms"]
            request_p50 = result.verify_p50[size] = float(np.percentile(latencies, 50) * 1000)
            result.rows.append(
                [
                    f"{size:,}",
                    percentiles(latencies),
                    f"{found['p50_ms']:.1f} / {found['p95_ms']:.1f} / {found['p99_ms']:.1f}",
                    f"{100 * found['p50_ms'] / request_p50:.0f} %",
                    f"{health['startup_s']['gallery']:.2f}",
                    f"{fill_s:.1f}",
                ]
            )
            gallery_mb = size * EMBEDDER.dimension * 4 / 2**20
            result.rss[size] = server.rss_mb()
            result.memory_rows.append([f"{size:,}", f"{gallery_mb:.0f}", f"{result.rss[size]:.0f}"])
            if size == GALLERY_SIZES[-1]:
                # Far more requests at once than the server admits.
                print("overload ...", flush=True)
                result.overload = asyncio.run(overload_run(server, probes))
    return result


@dataclass
class LikeForLike:
    ours: dict[str, list[float]] = field(default_factory=dict)  # photos/s per set, per run
    peer: dict[str, list[float]] | None = None  # None when face_recognition is not installed
    mixed_rss: list[float] = field(default_factory=list)  # MB after each round of the mixed load
    mixed_failures: int = 0


def like_for_like(
    server: ServerProcess, sets: dict[str, list[Path]], set_photos: dict[str, list[bytes]]
) -> LikeForLike:
    """Each photo set, ours at SET_CONCURRENCY and the peer's pool taking turns (so that a change in the
    machine's speed during the run falls on both); then memory under a mixed load, twice over."""
    result = LikeForLike()
    warm = [path for paths in sets.values() for path in paths[:4]]
    with running(server), peer_pool(warm) as pool:
        if pool is not None:
            result.peer = {}
        for name, photos in set_photos.items():
            print(f"enrolment of {name}, ours and the peer's in turn ...", flush=True)
            result.ours[name] = []
            for repeat in range(2):
                person = create_person(server, f"set {name[:20]} r{repeat}")
                wall, _, _ = asyncio.run(drive(server, CREATE_FACE, photos, SET_CONCURRENCY, p=person))
                result.ours[name].append(len(photos) / wall)
                if pool is not None and result.peer is not None:
                    result.peer.setdefault(name, []).append(peer_rate(pool, sets[name]))
        print(f"mixed load, 2 × {MIXED_REQUESTS} requests ...", flush=True)
        mixed_photos = [photo for photos in set_photos.values() for photo in photos]
        for _ in range(2):
            result.mixed_failures += asyncio.run(mixed_load(server, mixed_photos, MIXED_REQUESTS))
            result.mixed_rss.append(server.rss_mb())
    return result


def overall(rates: dict[str, list[float]], sets: dict[str, list[Path]]) -> float:
    """Photos per second over all sets: every photo once, at each set's median rate."""
    total = sum(len(paths) for paths in sets.values())
    return total / sum(len(sets[name]) / statistics.median(runs) for name, runs in rates.items())


def live(server: ServerProcess, seconds: float) -> tuple[list[LiveRun], int]:
    """bench-live's three streams (camera pace, flat out, camera pace beside 4 verifying clients) on this server."""
    with running(server):
        return asyncio.run(measure_live(server, seconds))
