"""Live recognition: a camera's frames in (sendLiveFrame), every face of each frame out (liveRecognition).

A stream lives on one WebSocket connection: the subscription opens it, and frames come
as sendLiveFrame mutations over the same socket, so no other connection can feed it.
The newest frame wins: one that arrives while an older one still waits replaces it (the
older is dropped, never queued), so a slow server answers late frames less often rather
than later. Faces are tracked across frames (ml.tracking); a tracked face goes back to
the embedder only when its identity has aged, and then in the engine's shared batches.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncGenerator, Coroutine
from dataclasses import dataclass
from typing import Any

from starlette.websockets import WebSocket

from auth.scopes import Principal
from bounds import LIVE_FACES_MAX, LIVE_STREAM_NAME_MAX
from errors import ApiError, ErrorCode, invalid
from ml.detection import Box
from ml.tracking import FaceTracker, Sighting
from resolvers.context import Context
from resolvers.failures import as_api_error
from resolvers.images import Photo, read_image
from resolvers.loaders import Loaders
from resolvers.verification import SearchOptions, Verdict, verify_embedding


@dataclass(frozen=True)
class SeenFace:
    """A face in a live frame: its track, where it is, and who it was last identified as."""

    track: int
    box: Box
    score: float | None
    verdict: Verdict  # from this frame, or carried over from an earlier one of the same track
    identified_now: bool
    identified_ms_ago: float


@dataclass(frozen=True)
class FrameAnswer:
    """What a live stream answers for one frame: its faces, or why it has none."""

    frame: int
    faces: list[SeenFace]
    error: ApiError | None
    dropped_frames: int
    server_ms: float


@dataclass(frozen=True)
class FrameReceipt:
    """sendLiveFrame's answer: whether the frame was taken, and the waiting one it replaced."""

    frame: int
    accepted: bool
    replaced_frame: int | None


@dataclass(frozen=True)
class PendingFrame:
    number: int
    data: bytes
    received: float  # time.perf_counter() when it arrived


class LiveStream:
    """One camera's stream: a one-frame mailbox and the faces tracked so far.

    Frames are taken in the order of their numbers: one numbered at or below the newest
    taken so far (waiting or answered) is turned away, so a late frame never replaces a
    newer one and answers come in order whatever order the frames arrive in.
    """

    def __init__(self, holder: Principal | None, idle_timeout_s: float) -> None:
        self.holder = holder  # whose slot it holds (auth.slots)
        self._pending: PendingFrame | None = None
        self._arrived = asyncio.Event()
        self._newest: int | None = None
        self.idle_timeout_s = idle_timeout_s
        self.dropped = 0
        self.tracker: FaceTracker[Verdict] = FaceTracker()

    def offer(self, frame: PendingFrame) -> tuple[bool, int | None]:
        """Take the frame (unless a newer one was taken); whether it was, and the waiting frame it replaced."""
        if self._newest is not None and frame.number <= self._newest:
            self.dropped += 1
            return False, None
        self._newest = frame.number
        replaced = None if self._pending is None else self._pending.number
        if replaced is not None:
            self.dropped += 1
        self._pending = frame
        self._arrived.set()
        return True, replaced

    async def next_frame(self) -> PendingFrame:
        """The waiting frame; REQUEST_TIMEOUT when none comes within the idle timeout (the stream then ends)."""
        try:
            await asyncio.wait_for(self._arrived.wait(), self.idle_timeout_s)
        except TimeoutError:
            raise ApiError(
                ErrorCode.REQUEST_TIMEOUT,
                f"no frame for {self.idle_timeout_s:g} s: the stream is closed (LIVE_IDLE_TIMEOUT_S)",
            ) from None
        self._arrived.clear()
        frame, self._pending = self._pending, None
        assert frame is not None
        return frame


def _check_name(stream: str) -> None:
    if not 1 <= len(stream) <= LIVE_STREAM_NAME_MAX:
        raise invalid(f"`stream` must be 1 to {LIVE_STREAM_NAME_MAX} characters")


def require_websocket(ctx: Context, field: str) -> None:
    if not isinstance(ctx.request, WebSocket):
        raise invalid(f"{field} runs over a WebSocket (graphql-transport-ws), with its frames")


def _check_stream(ctx: Context, stream: str, min_face_size: int | None) -> None:
    _check_name(stream)
    require_websocket(ctx, "liveRecognition")
    if min_face_size is not None and not 12 <= min_face_size <= 1000:
        raise invalid("`minFaceSize` must be between 12 and 1000 pixels")
    if stream in ctx.live_streams:
        raise invalid(f"a live stream named {stream!r} is already open on this connection")


async def open_stream(
    ctx: Context, stream: str, options: Coroutine[Any, Any, SearchOptions], min_face_size: int | None
) -> AsyncGenerator[FrameAnswer, None]:
    """Open the stream `stream` on this connection (checks first, then a slot of the key's), and its answers.

    A plain coroutine, not a generator: a refusal is raised here, when the subscription
    is made, so that the open is audited with its outcome before any frame. The stream
    is registered before `options` (which reads the database) is awaited: a client sends
    its first frames right after subscribing, and they must find the stream.
    """
    try:
        _check_stream(ctx, stream, min_face_size)
        live = claim_stream(ctx, stream)
    except BaseException:
        options.close()  # never to be awaited
        raise
    try:
        chosen = await options
    except BaseException:
        close_stream(ctx, stream)
        raise
    return _answers(ctx, stream, live, chosen, min_face_size or ctx.services.settings.live_min_face_size)


async def _answers(
    ctx: Context, stream: str, live: LiveStream, options: SearchOptions, smallest: int
) -> AsyncGenerator[FrameAnswer, None]:
    """Answer each frame sendLiveFrame puts in the stream, until the client completes it or it idles."""
    try:
        while True:
            frame = await live.next_frame()
            try:
                faces = await _recognise(ctx, live, frame.data, options, smallest)
                error = None
            except Exception as exc:  # a bad frame or a busy server: say so, and go on with the next
                error = as_api_error(exc)
                if error is None:
                    raise
                faces = []
            yield FrameAnswer(
                frame=frame.number,
                faces=faces,
                error=error,
                dropped_frames=live.dropped,
                server_ms=round((time.perf_counter() - frame.received) * 1000, 1),
            )
    finally:
        close_stream(ctx, stream)


def claim_stream(ctx: Context, stream: str) -> LiveStream:
    """Open `stream` on this connection for sendLiveFrame to feed, holding one of the key's live slots (BUSY)."""
    ctx.services.live_slots.take(ctx.principal)
    live = ctx.live_streams[stream] = LiveStream(ctx.principal, ctx.services.settings.live_idle_timeout_s)
    return live


def close_stream(ctx: Context, stream: str) -> None:
    """Forget the stream and give its slot back (once: when it ends, or when its connection does)."""
    live = ctx.live_streams.pop(stream, None)
    if live is not None:
        ctx.services.live_slots.give_back(live.holder)


async def _recognise(
    ctx: Context, live: LiveStream, data: bytes, options: SearchOptions, smallest: int
) -> list[SeenFace]:
    engine = ctx.services.engine
    frame = await engine.detect_frame(data, smallest, LIVE_FACES_MAX)
    now = time.monotonic()
    sightings = live.tracker.update(frame.detections, now)
    # Flags, not `in`: comparing sightings would compare their landmark arrays.
    flags = [s.track.due(now, live.tracker.policy) for s in sightings]
    due = [s for s, flag in zip(sightings, flags, strict=True) if flag]
    if due:
        pipeline = engine.pipeline_of(options.model)  # the stream's collection's model cuts and embeds
        cut = [pipeline.cut(frame.image, s.detection) for s in due]
        embedded = await engine.embed_faces(cut, options.model)
        # Fresh loaders: a connection's context lives for hours, and names change.
        fresh = dataclasses.replace(ctx, loaders=Loaders())
        for sighting, result in zip(due, embedded, strict=True):
            verdict = await verify_embedding(fresh, result.vector, options, None, None)
            live.tracker.identified(sighting.track, verdict, verdict.match, now)
    return [_live_face(s, now, flag) for s, flag in zip(sightings, flags, strict=True)]


def _live_face(sighting: Sighting[Verdict], now: float, identified_now: bool) -> SeenFace:
    track = sighting.track
    verdict = track.identity
    assert verdict is not None and track.identified_at is not None
    return SeenFace(
        track=track.id,
        box=sighting.detection.box,
        score=sighting.detection.score,
        verdict=verdict,
        identified_now=identified_now,
        identified_ms_ago=round((now - track.identified_at) * 1000, 1),
    )


async def send_live_frame(ctx: Context, stream: str, frame: int, image: Photo) -> FrameReceipt:
    _check_name(stream)
    live = ctx.live_streams.get(stream)
    if live is None:
        raise ApiError(
            ErrorCode.NOT_FOUND,
            f"no live stream {stream!r} on this connection: subscribe to liveRecognition (or livenessCheck, "
            "the stream named by its session's id) first, and send its frames over the same WebSocket",
        )
    data = await read_image(image, ctx.services.settings.max_image_bytes)
    accepted, replaced = live.offer(PendingFrame(frame, data, time.perf_counter()))
    return FrameReceipt(frame, accepted, replaced)
