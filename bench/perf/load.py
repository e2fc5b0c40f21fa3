"""Driving the server over HTTP: uploads at a given concurrency, its /metrics, a mixed load, an overload."""

from __future__ import annotations

import asyncio
import json
import secrets
import statistics
import time
from pathlib import Path

import httpx
import numpy as np

from bench.perf.plan import CREATE_FACE, DETECT, MIX, RECOGNIZE, SET_CONCURRENCY, VERIFY
from devdata.server import ServerProcess
from settings import Settings


def bench_server(data_dir: Path, env: dict[str, str] | None = None) -> ServerProcess:
    """The server with an admin key of its own: every call needs a key, and admin keys are not rate-limited."""
    key = "fid_bench-" + secrets.token_urlsafe(24)
    return ServerProcess(data_dir, {"ADMIN_API_KEY": key, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})})


def spread(values: list[float], fmt: str = "{:.1f}") -> str:
    """Median with the range of the repetitions."""
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def percentiles(latencies: list[float]) -> str:
    p50, p95, p99 = np.percentile(np.asarray(latencies) * 1000, [50, 95, 99])
    return f"{p50:.0f} / {p95:.0f} / {p99:.0f}"


async def graphql_upload(client: httpx.AsyncClient, query: str, photo: bytes, **variables: str) -> dict:
    operations = {"query": query, "variables": {**variables, "f": None}}
    response = await client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.f"]})},
        files={"0": ("photo.jpg", photo, "image/jpeg")},
    )
    return response.json()


async def drive(server: ServerProcess, query: str, photos: list[bytes], concurrency: int, **variables: str):
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


def server_stats(server: ServerProcess, reset: bool = False) -> dict:
    method = httpx.delete if reset else httpx.get
    return method(f"{server.url}/metrics", timeout=10, headers={**server.headers, "Accept": "application/json"}).json()


def create_person(server: ServerProcess, name: str) -> str:
    body = httpx.post(
        f"{server.url}/graphql",
        json={"query": "mutation($n: String!) { createPerson(input: {name: $n}) { id } }", "variables": {"n": name}},
        timeout=30,
        headers=server.headers,
    ).json()
    return body["data"]["createPerson"]["id"]


async def mixed_load(server: ServerProcess, photos: list[bytes], count: int, concurrency: int = SET_CONCURRENCY) -> int:
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


async def overload_run(server: ServerProcess, probes: list[bytes]) -> dict:
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
