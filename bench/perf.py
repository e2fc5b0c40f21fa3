"""Performance benchmark: `make bench-perf` (python -m bench.perf).

Starts the real server (uvicorn via `python app.py`, as `make run` does) on a free
local port with a fresh database in a temporary folder, drives it over HTTP from
this separate process, and writes bench/results/perf.md. Every figure comes from
this one run on this one machine; timings are medians of repetitions with spread.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import multiprocessing.pool
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

import devdata
from bench.report import RESULTS, header, table
from settings import Settings
from weights import DEFAULT_EMBEDDER, EMBEDDERS, EmbedderSpec

ROOT = Path(__file__).resolve().parent.parent
EMBEDDER = EMBEDDERS[DEFAULT_EMBEDDER]  # the server runs with its default settings
MODEL_ID = EMBEDDER.model_id("mtcnn")
RUNTIME_NAMES = {"litert": "LiteRT (XNNPACK)", "tensorflow": "TensorFlow"}
CEILING_BATCHES = (1, 8, 32)
# The served model on both runtimes, and the other model on the CPU's.
CEILING_RUNS = [(EMBEDDER, "litert"), (EMBEDDER, "tensorflow")] + [
    (spec, "litert") for spec in EMBEDDERS.values() if spec is not EMBEDDER
]
CONCURRENCY = (1, 4, 16)
GALLERY_SIZES = (1_000, 10_000, 100_000)
REPEATS = 3
BATCH_PHOTOS = 8  # photos whose R-Net and O-Net candidates the detection-stage probe batches together
FACES_PER_RANDOM_PERSON = 10

CREATE_FACE = "mutation($p: ID!, $f: Upload!) { createFace(personId: $p, image: {upload: $f}) { id } }"
VERIFY = "query($f: Upload!) { verifyLinear(image: {upload: $f}, limit: 5) { match searched } }"
DETECT = "query($f: Upload!) { detectFaces(image: {upload: $f}) { score } }"
RECOGNIZE = "query($f: Upload!) { recognizeFaces(image: {upload: $f}) { match } }"
# Like for like with the peer (issue 12): each photo set enrolled at this concurrency, against
# face_recognition with a process per core on the same photos.
SET_CONCURRENCY = 8
LFW_SAMPLE = 100  # LFW photos (250 x 250) in the per-set comparison
# Memory under a mixed load: this many requests, twice; each cycle of MIX is one of each, in order.
MIXED_REQUESTS = 1000
MIX = ("verify", "enrol", "verify", "detect", "recognize")


# ------------------------------------------------------------------ helpers


def spread(values: list[float], fmt: str = "{:.1f}") -> str:
    """Median with the range of the repetitions."""
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def percentiles(latencies: list[float]) -> str:
    p50, p95, p99 = np.percentile(np.asarray(latencies) * 1000, [50, 95, 99])
    return f"{p50:.0f} / {p95:.0f} / {p99:.0f}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """The real server as a child process."""

    data_dir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    # An admin key (ADMIN_API_KEY): every call needs a key, and admin keys are not rate-limited.
    api_key: str = field(default_factory=lambda: "fid_bench-" + secrets.token_urlsafe(24))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def start(self) -> dict:
        env = os.environ | {"HOST": "127.0.0.1", "PORT": str(self.port), "DATA_DIR": str(self.data_dir)}
        env |= {"TF_CPP_MIN_LOG_LEVEL": "3", "ADMIN_API_KEY": self.api_key} | self.extra_env
        self.log = open(self.data_dir / "server.log", "ab")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited; see {self.data_dir / 'server.log'}")
            with contextlib.suppress(httpx.HTTPError):
                response = httpx.get(f"{self.url}/healthz", timeout=2)
                if response.status_code == 200:
                    return response.json()
            time.sleep(0.25)
        raise TimeoutError("the server did not become healthy")

    def rss_mb(self) -> float:
        import psutil

        return psutil.Process(self.process.pid).memory_info().rss / 2**20

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.log.close()
            self.process = None


@contextlib.contextmanager
def running(server: Server) -> Iterator[dict]:
    health = server.start()
    try:
        yield health
    finally:
        server.stop()


async def graphql_upload(client: httpx.AsyncClient, query: str, photo: bytes, **variables: str) -> dict:
    operations = {"query": query, "variables": {**variables, "f": None}}
    response = await client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.f"]})},
        files={"0": ("photo.jpg", photo, "image/jpeg")},
    )
    return response.json()


async def drive(server: Server, query: str, photos: list[bytes], concurrency: int, **variables: str):
    """Send every photo once, `concurrency` at a time: (wall seconds, latencies, bodies)."""
    latencies: list[float] = []
    bodies: list[dict] = []
    queue = list(photos)
    async with httpx.AsyncClient(base_url=server.url, timeout=120, headers=server.headers) as client:

        async def worker() -> None:
            while queue:
                photo = queue.pop()
                started = time.perf_counter()
                bodies.append(await graphql_upload(client, query, photo, **variables))
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started, latencies, bodies


def server_stats(server: Server, reset: bool = False) -> dict:
    method = httpx.delete if reset else httpx.get
    return method(f"{server.url}/metrics", timeout=10, headers=server.headers).json()


def create_person(server: Server, name: str) -> str:
    body = httpx.post(
        f"{server.url}/graphql",
        json={"query": "mutation($n: String!) { createPerson(input: {name: $n}) { id } }", "variables": {"n": name}},
        timeout=30,
        headers=server.headers,
    ).json()
    return body["data"]["createPerson"]["id"]


# ------------------------------------------------------------------ phases


def model_ceiling(spec: EmbedderSpec, runtime: str) -> dict[int, list[float]]:
    """Faces/s of an embedder alone on a runtime, per batch size, REPEATS+2 timed runs each."""
    from ml.embedder import Runtime, load_embedder

    embedder = load_embedder(spec, Runtime(runtime))
    rng = np.random.default_rng(0)
    result = {}
    for batch in CEILING_BATCHES:
        faces = rng.integers(0, 256, (batch, 160, 160, 3), dtype=np.uint8)
        embedder.embed(faces)  # warm-up (graph tracing for this shape)
        runs = []
        for _ in range(REPEATS + 2):
            calls = max(1, 64 // batch)
            started = time.perf_counter()
            for _ in range(calls):
                embedder.embed(faces)
            runs.append(calls * batch / (time.perf_counter() - started))
        result[batch] = runs
    return result


def detection_stages(sets: dict[str, list[Path]]) -> list[list[str]]:
    """Per photo set: ms per photo in each MTCNN stage, and what batching the later stages across photos saves.

    Reaches into ml.mtcnn's stages and nets: R-Net's and O-Net's forward passes are timed
    on each photo's own candidates, then on the candidates of BATCH_PHOTOS photos at once.
    """
    import cv2

    from ml import mtcnn
    from ml.image import ImageLimits, decode_photo

    settings = Settings.from_env()
    net = mtcnn.Mtcnn(settings.min_face_size)
    limits = ImageLimits(settings.max_image_bytes, settings.max_image_pixels)
    rows = []
    for name, paths in sets.items():
        stage_s = np.zeros(3)
        inputs: dict[str, list[np.ndarray]] = {"rnet": [], "onet": []}
        for path in paths:
            image = decode_photo(path.read_bytes(), limits, settings.detect_max_side).pixels
            scale = settings.detect_max_side / max(image.shape[:2])
            if scale < 1:
                size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
                image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
            started = time.perf_counter()
            proposed = net._stage1(image, settings.min_face_size)
            proposed_at = time.perf_counter()
            refined = net._stage2(image, proposed) if len(proposed) else proposed
            refined_at = time.perf_counter()
            if len(refined):
                net._stage3(image, refined)
            stage_s += [proposed_at - started, refined_at - proposed_at, time.perf_counter() - refined_at]
            inputs["rnet"].append(mtcnn._normalise(mtcnn._crops(image, proposed, 24)).transpose(0, 2, 1, 3))
            inputs["onet"].append(mtcnn._normalise(mtcnn._crops(image, np.fix(refined), 48)).transpose(0, 2, 1, 3))
        forward_s = {}
        for stage, dnn in (("rnet", net._rnet), ("onet", net._onet)):
            alone = batched = 0.0
            crops = [c for c in inputs[stage] if len(c)]
            for start in range(0, len(crops), BATCH_PHOTOS):
                group = crops[start : start + BATCH_PHOTOS]
                began = time.perf_counter()
                for c in group:
                    dnn.setInput(c)
                    dnn.forward()
                alone += time.perf_counter() - began
                began = time.perf_counter()
                dnn.setInput(np.concatenate(group))
                dnn.forward()
                batched += time.perf_counter() - began
            forward_s[stage] = (alone, batched)
        per_photo = [f"{1000 * t / len(paths):.1f}" for t in stage_s]
        alone = sum(a for a, _ in forward_s.values())
        batched = sum(b for _, b in forward_s.values())
        saved = 100 * (alone - batched) / alone
        change = f"{1000 * alone / len(paths):.1f} → {1000 * batched / len(paths):.1f} ({saved:+.0f} % saved)"
        rows.append([name, *per_photo, change])
    return rows


def photo_sets() -> dict[str, list[Path]]:
    """The shared photos in three kinds: small web photos, LFW's 250 x 250 crops, large photos."""
    lfw = sorted({path for pair in devdata.read_lfw_pairs() for path in (pair.x, pair.y)})[:LFW_SAMPLE]
    return {
        "small web photos (five-celebrity/train)": [p for ps in devdata.celebrity_photos("train").values() for p in ps],
        f"LFW 250 × 250 (first {LFW_SAMPLE} of the pairs' photos)": lfw,
        "large photos (faces-dev/deepface, 0.3–2 MP)": sorted(devdata.DEEPFACE.glob("*.jpg")),
    }


@contextlib.contextmanager
def peer_pool(warm: list[Path]) -> Iterator[multiprocessing.pool.Pool | None]:
    """face_recognition with a process per core, as it would be deployed here; None if not installed."""
    from bench import peer

    if not peer.available():
        yield None
        return
    with multiprocessing.get_context("spawn").Pool(len(os.sched_getaffinity(0))) as pool:
        pool.map(peer.embed_one, warm, chunksize=1)  # imports and model loads, in every worker
        yield pool


def peer_rate(pool: multiprocessing.pool.Pool, paths: list[Path]) -> float:
    """The peer's photos/s on these photos: the largest face's encoding of each."""
    from bench import peer

    started = time.perf_counter()
    pool.map(peer.embed_one, paths, chunksize=1)
    return len(paths) / (time.perf_counter() - started)


async def mixed_load(server: Server, photos: list[bytes], count: int, concurrency: int = SET_CONCURRENCY) -> int:
    """`count` requests cycling through MIX (enrolments into fresh persons); the number that failed."""
    queries = {"verify": VERIFY, "enrol": CREATE_FACE, "detect": DETECT, "recognize": RECOGNIZE}
    per_person = 50  # a person holds at most 100 faces
    enrolments = count // len(MIX) + 1
    persons = [create_person(server, f"mixed {i}") for i in range(enrolments // per_person + 1)]
    failures = 0
    next_request = 0
    async with httpx.AsyncClient(base_url=server.url, timeout=120, headers=server.headers) as client:

        async def worker() -> None:
            nonlocal failures, next_request
            while next_request < count:
                number, next_request = next_request, next_request + 1
                kind = MIX[number % len(MIX)]
                variables = {}
                if kind == "enrol":
                    variables["p"] = persons[number // len(MIX) // per_person]
                body = await graphql_upload(client, queries[kind], photos[number % len(photos)], **variables)
                failures += "errors" in body

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return failures


async def fill_gallery(database_url: str, target: int) -> float:
    """Random unit vectors, straight into the database, up to `target` faces; seconds taken."""
    from tortoise import Tortoise

    from models import Face, Person, database_config

    await Tortoise.init(config=database_config(database_url))
    try:
        started = time.perf_counter()
        missing = target - await Face.filter(model=MODEL_ID).count()
        rng = np.random.default_rng(target)
        crop = b"not a photo: synthetic benchmark row"
        for start in range(0, missing, 5000):
            count = min(5000, missing - start)
            persons = [
                Person(id=uuid.uuid4(), name=f"synthetic {start + i}") for i in range(0, count, FACES_PER_RANDOM_PERSON)
            ]
            await Person.bulk_create(persons)
            vectors = rng.normal(size=(count, EMBEDDER.dimension)).astype("<f4")
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            faces = [
                Face(
                    id=uuid.uuid4(),
                    person_id=persons[i // FACES_PER_RANDOM_PERSON].id,
                    embedding=vectors[i].tobytes(),
                    model=MODEL_ID,
                    box_x=0,
                    box_y=0,
                    box_width=160,
                    box_height=160,
                    detection_score=None,
                    detector="synthetic",
                    crop_jpeg=crop,
                    image_sha256="0" * 64,
                )
                for i in range(count)
            ]
            await Face.bulk_create(faces, batch_size=1000)
        return time.perf_counter() - started
    finally:
        await Tortoise.close_connections()


# ------------------------------------------------------------------ the run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()

    enrol_paths = sorted(devdata.DEEPFACE.glob("*.jpg"))
    enrol_photos = [path.read_bytes() for path in enrol_paths]
    probe_paths = [p for paths in devdata.celebrity_photos("val").values() for p in paths]
    probe_photos = [path.read_bytes() for path in probe_paths]

    print("model ceiling ...", flush=True)
    ceilings = {(spec.key, runtime): model_ceiling(spec, runtime) for spec, runtime in CEILING_RUNS}
    sets = photo_sets()
    set_photos = {name: [path.read_bytes() for path in paths] for name, paths in sets.items()}
    print("detection stages ...", flush=True)
    stage_rows = detection_stages(sets)

    lines = header("Performance benchmark", "make bench-perf")
    with tempfile.TemporaryDirectory(prefix="faceid-bench-") as tmp:
        data_dir = Path(tmp)
        server = Server(data_dir)
        database_url = f"sqlite://{data_dir / 'faces.sqlite3'}"

        # ---- enrolment
        enrol_rows, enrol_embed = [], {}
        with running(server) as health:
            baseline_rss = server.rss_mb()
            for concurrency in CONCURRENCY:
                print(f"enrolment at concurrency {concurrency} ...", flush=True)
                rates, latencies, stats_runs, failures = [], [], [], 0
                for repeat in range(REPEATS):
                    person = create_person(server, f"enrol c{concurrency} r{repeat}")
                    server_stats(server, reset=True)
                    wall, lat, bodies = asyncio.run(drive(server, CREATE_FACE, enrol_photos, concurrency, p=person))
                    failures += sum("errors" in body for body in bodies)
                    rates.append(len(enrol_photos) / wall)
                    latencies += lat
                    stats_runs.append(server_stats(server)["stages"])
                embed = [s["embed"] for s in stats_runs]
                faces_per_embed_second = [e["items"] / e["total_s"] for e in embed]
                batch_size = [e["items"] / e["calls"] for e in embed]
                enrol_embed[concurrency] = faces_per_embed_second
                enrol_rows.append(
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
                    enrol_batch_top = batch_size
                    enrol_detect_share = [
                        s["detect"]["total_s"] / (s["detect"]["total_s"] + s["embed"]["total_s"]) for s in stats_runs
                    ]
            after_enrol_rss = server.rss_mb()

        # ---- 1:K search on growing galleries
        search_rows, memory_rows = [], []
        search_p50, verify_p50, rss = {}, {}, {}
        for size in GALLERY_SIZES:
            print(f"gallery of {size} ...", flush=True)
            fill_s = asyncio.run(fill_gallery(database_url, size))
            with running(server) as health:
                assert health["faces"] == size, health
                server_stats(server, reset=True)
                latencies = []
                for _ in range(REPEATS):
                    _, lat, bodies = asyncio.run(drive(server, VERIFY, probe_photos, 1))
                    assert all("errors" not in body for body in bodies), bodies[:2]
                    latencies += lat
                stages = server_stats(server)["stages"]
                search = stages["search"]
                search_p50[size] = search["p50_ms"]
                request_p50 = verify_p50[size] = float(np.percentile(latencies, 50) * 1000)
                search_rows.append(
                    [
                        f"{size:,}",
                        percentiles(latencies),
                        f"{search['p50_ms']:.1f} / {search['p95_ms']:.1f} / {search['p99_ms']:.1f}",
                        f"{100 * search['p50_ms'] / request_p50:.0f} %",
                        f"{health['startup_s']['gallery']:.2f}",
                        f"{fill_s:.1f}",
                    ]
                )
                gallery_mb = size * EMBEDDER.dimension * 4 / 2**20
                rss[size] = server.rss_mb()
                memory_rows.append([f"{size:,}", f"{gallery_mb:.0f}", f"{rss[size]:.0f}"])
                if size == GALLERY_SIZES[-1]:
                    # ---- overload: far more requests at once than the server admits
                    print("overload ...", flush=True)
                    overload = asyncio.run(overload_run(server, probe_photos))

        # ---- on a fresh server and database (the galleries above count their rows)
        fresh = Server(data_dir / "fresh")
        fresh.data_dir.mkdir()
        warm = [path for paths in sets.values() for path in paths[:4]]
        with running(fresh), peer_pool(warm) as pool:
            # ---- like for like: each photo set, ours at SET_CONCURRENCY and the peer's pool taking turns,
            # so that a change in the machine's speed during the run falls on both
            ours: dict[str, list[float]] = {}
            peer: dict[str, list[float]] | None = None if pool is None else {}
            for name, photos in set_photos.items():
                print(f"enrolment of {name}, ours and the peer's in turn ...", flush=True)
                ours[name] = []
                for repeat in range(2):
                    person = create_person(fresh, f"set {name[:20]} r{repeat}")
                    wall, _, _ = asyncio.run(drive(fresh, CREATE_FACE, photos, SET_CONCURRENCY, p=person))
                    ours[name].append(len(photos) / wall)
                    if pool is not None and peer is not None:
                        peer.setdefault(name, []).append(peer_rate(pool, sets[name]))

            # ---- memory under a mixed load, twice over
            print(f"mixed load, 2 × {MIXED_REQUESTS} requests ...", flush=True)
            mixed_photos = [photo for photos in set_photos.values() for photo in photos]
            mixed_rss, mixed_failures = [], 0
            for _ in range(2):
                mixed_failures += asyncio.run(mixed_load(fresh, mixed_photos, MIXED_REQUESTS))
                mixed_rss.append(fresh.rss_mb())
        # The models' own footprint: the server after the same restart and probes, 1k faces (2 MB).
        rss_small, rss_top = rss[GALLERY_SIZES[0]], rss[GALLERY_SIZES[-1]]

    ceiling = ceilings[(EMBEDDER.key, health["runtime"])]
    ceiling32 = statistics.median(ceiling[32])
    verify_alone_p50 = verify_p50[GALLERY_SIZES[0]]
    embed16 = statistics.median(enrol_embed[CONCURRENCY[-1]])
    total_photos = sum(len(paths) for paths in sets.values())

    def overall(rates: dict[str, list[float]]) -> float:
        """Photos per second over all sets: every photo once, at each set's median rate."""
        return total_photos / sum(len(sets[name]) / statistics.median(runs) for name, runs in rates.items())

    ours_total = overall(ours)
    peer_total = overall(peer) if peer else None
    ratio = ours_total / peer_total if peer_total else 0.0
    gallery_top_mb = GALLERY_SIZES[-1] * EMBEDDER.dimension * 4 / 2**20

    lines += [
        f"Model `{MODEL_ID}`, detector {health['detector']} on the {health['detector_device']}, embedder on "
        f"{RUNTIME_NAMES[health['runtime']]} on the {health['device']}. "
        f"Enrolment photos: the {len(enrol_photos)} photos of `faces-dev/deepface` (0.3–2 MP), multipart uploads. "
        f"Probes: the {len(probe_photos)} `five-celebrity/val` photos. Latencies are client-side, over HTTP "
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
        "## 5. Detection stages (MTCNN on OpenCV DNN, in this process, one photo after another)",
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
    lines += ["## 6. Memory (server resident set size)", ""]
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
    targets = [
        [
            f"verifyLinear alone (concurrency 1, {GALLERY_SIZES[0]:,} faces) p50 ≤ 80 ms",
            f"{verify_alone_p50:.0f} ms",
            "met" if verify_alone_p50 <= 80 else "not met",
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
            f"enrolment c={SET_CONCURRENCY} on the shared photos ≥ 3 × face_recognition with a process per core",
            f"{ours_total:.2f} / {peer_total:.2f} = {ratio:.2f} ×" if peer_total else "peer not installed",
            ("met" if ratio >= 3 else "not met") if peer_total else "n/a",
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
            f"{(time.perf_counter() - began) / 60:.1f} min",
            "met" if time.perf_counter() - began < 900 else "not met",
        ],
    ]
    lines[6:6] = ["## Targets", "", *table(["target", "measured", ""], targets)]
    args.out.joinpath("perf.md").write_text("\n".join(lines))
    print("\n".join(lines))


async def overload_run(server: Server, probes: list[bytes]) -> dict:
    sent, timeout_s = 200, 60.0
    outcomes = {"ok": 0, "busy": 0, "other": 0, "timeouts": 0}
    slowest = 0.0
    limits = httpx.Limits(max_connections=sent, max_keepalive_connections=sent)
    async with httpx.AsyncClient(
        base_url=server.url, timeout=timeout_s, limits=limits, headers=server.headers
    ) as client:

        async def one(photo: bytes) -> None:
            nonlocal slowest
            started = time.perf_counter()
            try:
                body = await graphql_upload(client, VERIFY, photo)
            except httpx.TimeoutException:
                outcomes["timeouts"] += 1
                return
            slowest = max(slowest, time.perf_counter() - started)
            if "errors" not in body:
                outcomes["ok"] += 1
            elif body["errors"][0]["extensions"]["code"] == "BUSY":
                outcomes["busy"] += 1
            else:
                outcomes["other"] += 1

        await asyncio.gather(*(one(probes[i % len(probes)]) for i in range(sent)))
    max_pending = Settings.from_env().max_pending  # the server reads the same environment
    return outcomes | {"sent": sent, "timeout_s": timeout_s, "slowest_s": slowest, "max_pending": max_pending}


if __name__ == "__main__":
    main()
