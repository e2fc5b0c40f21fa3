"""bench/results/perf.md from what the stages measured: the targets first, then each stage's tables."""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass
from pathlib import Path

from bench.live import LIVE_HEADINGS
from bench.live import Run as LiveRun
from bench.perf.load import spread
from bench.perf.plan import (
    BATCH_PHOTOS,
    CEILING_BATCHES,
    CONCURRENCY,
    EMBEDDER,
    FACES_PER_RANDOM_PERSON,
    GALLERY_SIZES,
    LIVE_LOADED_RUN,
    LIVE_SECONDS,
    MIX,
    MIXED_REQUESTS,
    MODEL_ID,
    REPEATS,
    RUNTIME_NAMES,
    SET_CONCURRENCY,
)
from bench.perf.sets import SMALL_PHOTOS
from bench.perf.stages import Enrolment, LikeForLike, Search, overall
from bench.report import header, table
from settings import Settings


@dataclass(frozen=True)
class Measured:
    enrol_photos: int
    probe_photos: int
    ceilings: dict[tuple[str, str], dict[int, list[float]]]  # (embedder, runtime) -> batch -> faces/s per run
    detector_rows: list[list[str]]  # photo set, detector, p50 ms, p95 ms, photos with a face
    stage_rows: list[list[str]]
    sets: dict[str, list[Path]]
    enrolment: Enrolment
    search: Search
    like_for_like: LikeForLike
    live_runs: list[LiveRun]
    live_verifications: int  # the verifyLinear calls the loaded stream's clients made
    minutes: float  # the whole run


def perf_report(m: Measured) -> list[str]:
    ceilings, stage_rows, sets = m.ceilings, m.stage_rows, m.sets
    health, overload = m.search.health, m.search.overload
    enrol_rows, enrol_embed = m.enrolment.rows, m.enrolment.faces_per_embed_second
    enrol_batch_top, enrol_detect_share = m.enrolment.batch_at_top, m.enrolment.detect_share_at_top
    baseline_rss, after_enrol_rss = m.enrolment.baseline_rss, m.enrolment.after_rss
    search_rows, memory_rows = m.search.rows, m.search.memory_rows
    search_p50, verify_p50, rss = m.search.search_p50, m.search.verify_p50, m.search.rss
    ours, peer = m.like_for_like.ours, m.like_for_like.peer
    mixed_rss, mixed_failures = m.like_for_like.mixed_rss, m.like_for_like.mixed_failures
    # The models' own footprint: the server after the same restart and probes, 1k faces (2 MB).
    rss_small, rss_top = rss[GALLERY_SIZES[0]], rss[GALLERY_SIZES[-1]]
    lines = header("Performance benchmark", "make bench-perf")
    ceiling = ceilings[(EMBEDDER.key, health["runtime"])]
    ceiling32 = statistics.median(ceiling[32])
    verify_alone_p50 = verify_p50[GALLERY_SIZES[0]]
    embed16 = statistics.median(enrol_embed[CONCURRENCY[-1]])
    total_photos = sum(len(paths) for paths in sets.values())

    ours_total = overall(ours, sets)
    peer_total = overall(peer, sets) if peer else None
    ratio = ours_total / peer_total if peer_total else 0.0
    gallery_top_mb = GALLERY_SIZES[-1] * EMBEDDER.dimension * 4 / 2**20

    lines += [
        f"Model `{MODEL_ID}`, detector {health['detector']} on the {health['detector_device']}, embedder on "
        f"{RUNTIME_NAMES[health['runtime']]} on the {health['device']}. "
        f"Enrolment photos: the {m.enrol_photos} photos of `faces-dev/deepface` (0.3–2 MP), multipart uploads. "
        f"Probes: the {m.probe_photos} `five-celebrity/val` photos. Latencies are client-side, over HTTP "
        "on loopback, p50 / p95 / p99 in ms; rates are medians of "
        f"{REPEATS} repetitions (range in brackets).",
        "",
        "## 1. Model ceiling (the embedder alone, in this process)",
        "",
    ]
    served = (EMBEDDER.key, health["runtime"])
    lines += table(
        [
            "batch",
            *(
                f"{key} on {RUNTIME_NAMES[runtime]}{' (served)' if (key, runtime) == served else ''} faces/s"
                for key, runtime in ceilings
            ),
        ],
        [[str(b), *(spread(c[b]) for c in ceilings.values())] for b in CEILING_BATCHES],
    )
    lines += ["## 2. Enrolment (`createFace`)", ""]
    lines += table(
        [
            "concurrency",
            "photos/s",
            "latency p50 / p95 / p99 ms",
            "mean embedder batch",
            "faces per embedder-second",
            "errors",
        ],
        enrol_rows,
    )
    lines += [
        "Faces per embedder-second counts only the time the server spent inside the embedder "
        "(detection, decoding and HTTP excluded): the embedding share of the work. At concurrency "
        f"{CONCURRENCY[-1]}, decoding and detection took {100 * statistics.median(enrol_detect_share):.0f} % of the "
        "pipeline's thread time and the embedder the rest; the mean batch was "
        f"{statistics.median(enrol_batch_top):.1f} faces. Both run on the same two cores at once, so the "
        "embedder's calls take longer than in the ceiling runs above, where it had the machine to itself.",
        "",
        "## 3. 1:K search (`verifyLinear`, exact float32)",
        "",
        "Gallery rows beyond the enrolled photos are random unit vectors inserted straight into the "
        f"database ({FACES_PER_RANDOM_PERSON} per synthetic person). Search step: the matrix product and "
        "top-k inside the server, timed there.",
        "",
    ]
    lines += table(
        [
            "gallery faces",
            "request p50 / p95 / p99 ms",
            "search step p50 / p95 / p99 ms",
            "search share of p50",
            "gallery load at start-up s",
            "rows inserted in s",
        ],
        search_rows,
    )
    cores = len(os.sched_getaffinity(0))
    lines += [
        f"## 4. Peer, like for like: face_recognition (dlib HOG + ResNet) with a process per core ({cores})",
        "",
        "The same photos, this run, ours and the peer's taking turns (ours, peer, ours, peer per set). Ours: "
        f"`createFace` uploads at concurrency {SET_CONCURRENCY} through the server, photos whose face is refused "
        "(no face, low quality) included, as the peer's photos without a face are. The peer: the largest face's "
        "encoding per photo, in a pool of worker processes that loaded their models before the clock started, "
        "idle while ours ran. Rates are medians of 2 runs (range in brackets).",
        "",
    ]
    if peer is None:
        lines += ["face_recognition is not installed (the `bench` extra).", ""]
    else:
        rows = []
        for name, paths in sets.items():
            ours_rate, peer_set = statistics.median(ours[name]), statistics.median(peer[name])
            rows.append(
                [
                    name,
                    str(len(paths)),
                    spread(ours[name], "{:.2f}"),
                    spread(peer[name], "{:.2f}"),
                    f"{ours_rate / peer_set:.2f} ×",
                ]
            )
        rows.append(["all of them", str(total_photos), f"{ours_total:.2f}", f"{peer_total:.2f}", f"{ratio:.2f} ×"])
        lines += table(["photo set", "photos", "ours photos/s", "peer photos/s", "ours / peer"], rows)
    lines += [
        "## 5. Detectors (in this process, one photo after another, one thread)",
        "",
        "Milliseconds per photo for each detector (FACE_DETECTOR) on the photo sets of section 4, decoded as "
        "the server decodes them, through the retry with a border the server makes when nothing is found; "
        "and the photos each found a face in. The accuracy of each detector with each embedder is "
        "bench/results/accuracy.md's.",
        "",
    ]
    lines += table(["photo set", "detector", "p50 ms", "p95 ms", "photos with a face"], m.detector_rows)
    lines += [
        "## 6. Detection stages (MTCNN on OpenCV DNN, in this process, one photo after another)",
        "",
        "Milliseconds per photo in each stage of the cascade on the photo sets of section 4, as the server "
        f"decodes them (large JPEGs reduced) and downscales them (longer side {Settings.from_env().detect_max_side}). "
        "Last column: R-Net's and O-Net's forward passes on each photo's own candidates, against the "
        f"candidates of {BATCH_PHOTOS} photos in one batch (what batching the later stages across the photos "
        "in flight would save).",
        "",
    ]
    lines += table(
        [
            "photo set",
            "P-Net ms",
            "R-Net ms",
            "O-Net ms",
            f"R- + O-Net forward ms: alone → {BATCH_PHOTOS} photos batched",
        ],
        stage_rows,
    )
    loaded = m.live_runs[LIVE_LOADED_RUN]
    lines += [
        "## 7. Live recognition (`liveRecognition` over graphql-transport-ws)",
        "",
        "`make bench-live`'s streams on a server of their own: one 640x480 camera of one known face, frames sent "
        "by sendLiveFrame on the subscription's connection; at a camera's 15 frames/s, flat out with two frames in "
        f"flight, and at 15 frames/s again while 4 clients call verifyLinear without pause ({m.live_verifications} "
        f"calls). Each {LIVE_SECONDS:.0f} s; latency from a frame sent to its answer, answered frames only.",
        "",
    ]
    lines += table(LIVE_HEADINGS, [run.row() for run in m.live_runs])
    lines += ["## 8. Memory (server resident set size)", ""]
    lines += table(["gallery faces", "gallery matrix MB", "server RSS MB"], memory_rows)
    lines += [
        f"Before any gallery: {baseline_rss:.0f} MB after start-up, {after_enrol_rss:.0f} MB after the enrolment runs.",
        "",
        f"Under a mixed load ({', '.join(MIX)}, repeated; concurrency {SET_CONCURRENCY}; the photos of section 4): "
        f"{mixed_rss[0]:.0f} MB after {MIXED_REQUESTS} requests, {mixed_rss[1]:.0f} MB after {MIXED_REQUESTS} more "
        f"({mixed_failures} answered with an error code, e.g. enrolment photos refused for quality).",
        "",
        "## Overload",
        "",
        f"{overload['sent']} verifyLinear requests at once against MAX_PENDING={overload['max_pending']}: "
        f"{overload['ok']} answered, {overload['busy']} got `BUSY`, {overload['other']} other errors, "
        f"{overload['timeouts']} timed out (client timeout {overload['timeout_s']} s); slowest answer "
        f"{overload['slowest_s']:.1f} s.",
        "",
    ]

    memory_budget = 2 * gallery_top_mb + rss_small
    small_ours = statistics.median(ours[SMALL_PHOTOS])
    small_peer = statistics.median(peer[SMALL_PHOTOS]) if peer else 0.0
    small_ratio = small_ours / small_peer if small_peer else 0.0
    loaded_fps, loaded_p50 = loaded.answered / loaded.seconds, statistics.median(loaded.latencies)
    targets = [
        [
            f"verifyLinear alone (concurrency 1, {GALLERY_SIZES[0]:,} faces) p50 ≤ 40 ms",
            f"{verify_alone_p50:.0f} ms",
            "met" if verify_alone_p50 <= 40 else "not met",
        ],
        [
            "search step p50 at 100k ≤ 20 ms",
            f"{search_p50[GALLERY_SIZES[-1]]:.1f} ms",
            "met" if search_p50[GALLERY_SIZES[-1]] <= 20 else "not met",
        ],
        [
            "enrolment c=16 embedding share ≥ 70 % of the batch-32 ceiling",
            f"{embed16:.1f} / {ceiling32:.1f} faces/s = {100 * embed16 / ceiling32:.0f} %",
            "met" if embed16 >= 0.7 * ceiling32 else "not met",
        ],
        [
            f"enrolment c={SET_CONCURRENCY} on the shared photos ≥ 5 × face_recognition with a process per core",
            f"{ours_total:.2f} / {peer_total:.2f} = {ratio:.2f} ×" if peer_total else "peer not installed",
            ("met" if ratio >= 5 else "not met") if peer_total else "n/a",
        ],
        [
            f"the same on {SMALL_PHOTOS} alone ≥ 3 ×",
            f"{small_ours:.2f} / {small_peer:.2f} = {small_ratio:.2f} ×" if peer else "peer not installed",
            ("met" if small_ratio >= 3 else "not met") if peer else "n/a",
        ],
        [
            "live at 15 frames/s beside 4 verifying clients ≥ 15 frames/s answered, p50 ≤ 80 ms",
            f"{loaded_fps:.1f} frames/s, p50 {loaded_p50:.0f} ms",
            "met" if loaded_fps >= 15 and loaded_p50 <= 80 else "not met",
        ],
        [
            "RSS after start-up ≤ 1.0 GB",
            f"{baseline_rss:.0f} MB",
            "met" if baseline_rss <= 1024 else "not met",
        ],
        [
            f"RSS after {MIXED_REQUESTS} mixed requests ≤ 1.2 GB, flat over {MIXED_REQUESTS} more",
            f"{mixed_rss[0]:.0f} MB, then {mixed_rss[1]:.0f} MB ({mixed_rss[1] - mixed_rss[0]:+.0f})",
            "met" if mixed_rss[0] <= 1.2 * 1024 and mixed_rss[1] - mixed_rss[0] <= 0.02 * mixed_rss[0] else "not met",
        ],
        [
            "no request waits without bound",
            f"{overload['busy']} BUSY, {overload['timeouts']} timeouts",
            "met" if overload["timeouts"] == 0 and overload["busy"] > 0 else "not met",
        ],
        [
            "RSS at 100k ≤ 2 × gallery + models",
            f"{rss_top:.0f} MB ≤ 2 × {gallery_top_mb:.0f} + {rss_small:.0f} = {memory_budget:.0f} MB",
            "met" if rss_top <= memory_budget else "not met",
        ],
        [
            "whole benchmark under 15 minutes",
            f"{m.minutes:.1f} min",
            "met" if m.minutes < 15 else "not met",
        ],
    ]
    lines[6:6] = ["## Targets", "", *table(["target", "measured", ""], targets)]
    return lines
