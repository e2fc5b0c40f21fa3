"""Live recognition end to end: frames/s answered and latency from frame sent to answer (make bench-live).

A real server process; one 640x480 stream with one known face (devdata.camera), sent over
graphql-transport-ws as a camera app would: paced at a camera's rate, and flat out with two
frames in flight (as the console does). Then the camera again while other clients run
verifyLinear, so the stream shares the server (and the embedder's batches) with them.
Writes bench/results/live.md.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.perf.load import bench_server
from bench.report import RESULTS, header, table
from devdata import DEEPFACE, camera
from devdata.live_client import LiveClient
from devdata.server import ServerProcess, running

TARGET_FPS = 10.0
TARGET_P50_MS = 150.0
LIVE_HEADINGS = [
    "run",
    "frames sent",
    "answered / s",
    "p50 ms",
    "p90 ms",
    "p99 ms",
    "dropped",
    "faces named",
    "embedded",
]


@dataclass
class Run:
    name: str
    seconds: float
    sent: dict[int, float] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    answered: int = 0
    dropped: int = 0
    identified: int = 0
    faces: int = 0
    named: int = 0

    def row(self) -> list[str]:
        ordered = sorted(self.latencies)

        def at(share: float) -> str:
            return f"{ordered[min(len(ordered) - 1, int(share * len(ordered)))]:.0f}" if ordered else "-"

        return [
            self.name,
            str(len(self.sent)),
            f"{self.answered / self.seconds:.1f}",
            at(0.5),
            at(0.9),
            at(0.99),
            str(self.dropped),
            f"{self.named}/{self.faces}",
            f"{self.identified}",
        ]


async def stream(client: LiveClient, run: Run, frames: list[bytes], fps: float | None, in_flight: int = 2) -> None:
    """Send frames for run.seconds, paced at `fps` (None: whenever fewer than `in_flight` are unanswered)."""
    name = run.name.replace(" ", "-")
    live = await client.subscribe_live(name)
    await asyncio.sleep(0.2)
    unanswered: set[int] = set()
    done = asyncio.Event()

    async def read() -> None:
        while not done.is_set() or unanswered:
            try:
                message = await client.next(live, wait_s=5)
            except TimeoutError:
                break
            answer = message["payload"]["data"]["liveRecognition"]
            now = time.perf_counter()
            number = answer["frame"]
            run.latencies.append((now - run.sent[number]) * 1000)
            run.answered += 1
            run.dropped = answer["droppedFrames"]
            run.faces += len(answer["faces"])
            run.named += sum(face["match"] for face in answer["faces"])
            run.identified += sum(face["identifiedNow"] for face in answer["faces"])
            unanswered.difference_update(n for n in list(unanswered) if n <= number)

    reader = asyncio.create_task(read())
    started = time.perf_counter()
    number = 0
    while time.perf_counter() - started < run.seconds:
        if fps is not None:
            await asyncio.sleep(max(0.0, started + number / fps - time.perf_counter()))
        elif len(unanswered) >= in_flight:
            await asyncio.sleep(0.001)
            continue
        run.sent[number] = time.perf_counter()
        unanswered.add(number)
        await client.send_frame(name, number, frames[number % len(frames)])
        number += 1
    done.set()
    await reader
    await client.complete(live)


async def background_verifications(server: ServerProcess, stop: asyncio.Event, concurrency: int) -> int:
    photos = [p.read_bytes() for p in sorted(DEEPFACE.glob("img*.jpg"))[:16]]
    query = "query($i: String!) { verifyLinear(image: {base64: $i}) { match } }"
    count = 0

    async def worker(offset: int) -> None:
        nonlocal count
        async with httpx.AsyncClient(timeout=120, headers=server.headers) as http:
            index = offset
            while not stop.is_set():
                photo = base64.b64encode(photos[index % len(photos)]).decode("ascii")
                await http.post(f"{server.url}/graphql", json={"query": query, "variables": {"i": photo}})
                count += 1
                index += concurrency

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return count


async def measure(server: ServerProcess, seconds: float) -> tuple[list[Run], int]:
    async with httpx.AsyncClient(timeout=120, headers=server.headers) as http:
        created = await http.post(
            f"{server.url}/graphql", json={"query": 'mutation { createPerson(input: {name: "Angelina"}) { id } }'}
        )
        person = created.json()["data"]["createPerson"]["id"]
        photo = base64.b64encode(camera.ENROLLED_PHOTO.read_bytes()).decode("ascii")
        await http.post(
            f"{server.url}/graphql",
            json={
                "query": "mutation($p: ID!, $i: String!) { createFace(personId: $p, image: {base64: $i}) { id } }",
                "variables": {"p": person, "i": photo},
            },
        )
    frames = camera.jpegs(camera.frames())
    client = await LiveClient.open(server.ws_url, {"Authorization": f"Bearer {server.key}"})
    runs = [
        Run("camera 15 fps", seconds),
        Run("flat out, 2 in flight", seconds),
        Run("camera 15 fps + 4 verifyLinear clients", seconds),
    ]
    await stream(client, runs[0], frames, fps=15)
    await stream(client, runs[1], frames, fps=None)
    stop = asyncio.Event()
    load = asyncio.create_task(background_verifications(server, stop, concurrency=4))
    await asyncio.sleep(2)  # the load is on
    await stream(client, runs[2], frames, fps=15)
    stop.set()
    verifications = await load
    await client.close()
    return runs, verifications


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each run")
    parser.add_argument("--out", type=Path, default=RESULTS / "live.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        server = bench_server(Path(data_dir))
        with running(server) as health:
            runs, verifications = asyncio.run(measure(server, args.seconds))
    first = runs[0]
    p50 = statistics.median(first.latencies)
    fps = first.answered / first.seconds
    lines = header("Live recognition benchmark", "make bench-live")
    lines += [
        f"One 640x480 stream of one known face (`devdata/camera.py`: {camera.CAMERA_PHOTO.name} drifting "
        f"sideways; {camera.ENROLLED_PHOTO.name} enrolled), JPEG quality 80, base64 in a sendLiveFrame mutation "
        "over the same graphql-transport-ws connection as the liveRecognition subscription. Latency: from the "
        f"client sending a frame to its answer arriving, answered frames only. Each run {args.seconds:.0f} s; "
        f"model {health['model']}, detector {health['detector']} on the {health['detector_device']}, "
        f"embedder on {health['runtime']} on the {health['device']}.",
        "",
        *table(LIVE_HEADINGS, [run.row() for run in runs]),
        f"- The third run's 4 clients made {verifications} verifyLinear calls beside the stream.",
        "- `embedded`: faces that went through the embedder; the others were carried by their track "
        "(a known face is re-identified about once a second).",
        "",
        "## Targets",
        "",
        *table(
            ["target", "measured", "met"],
            [
                [f">= {TARGET_FPS:.0f} frames/s answered", f"{fps:.1f}", "yes" if fps >= TARGET_FPS else "no"],
                [f"p50 <= {TARGET_P50_MS:.0f} ms", f"{p50:.0f} ms", "yes" if p50 <= TARGET_P50_MS else "no"],
            ],
        ),
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
