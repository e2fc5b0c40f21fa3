"""Liveness sessions: challenges handed to a key, then judged (ml.liveness) on a burst of frames or a camera.

A session is drawn by startLiveness and used once, by the key that started it, before it
expires: checkLiveness judges a burst sent in one request; livenessCheck follows a camera
over WebSocket, its frames sent with sendLiveFrame (the stream named by the session's id),
and says after each what to do next. With a person, the most frontal frame of a live
session is verified against that person in the same answer.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from auth import audit
from auth.access import is_rate_limited
from auth.rate import RateKind
from bounds import (
    LIVENESS_CHALLENGE_WINDOW_S,
    LIVENESS_CHALLENGES_MAX,
    LIVENESS_FRAMES_MAX,
    LIVENESS_KEYFRAMES_MAX,
    LIVENESS_SESSION_TTL_S,
    SEARCH_LIMIT_MAX,
)
from errors import ApiError, invalid, not_found
from ml import liveness
from ml.liveness import INSTRUCTIONS, Challenge, FailedCheck, Observed, Step, Verdict
from models import Collection as CollectionRow
from models import LivenessSession as SessionRow
from models import Person as PersonRow
from resolvers import live
from resolvers.collections import chosen, model_of
from resolvers.context import Context
from resolvers.failures import as_api_error
from resolvers.ids import parse_id
from resolvers.images import Photo, read_image
from resolvers.persons import get_person_row
from resolvers.verification import Cutoff, SearchOptions, threshold_of, verify_embedding
from resolvers.verification import Verdict as Verification

__all__ = ["INSTRUCTIONS", "Challenge", "FailedCheck"]  # the schema's enums are built from them

_DRAW = random.SystemRandom()  # the challenges must not be guessable from earlier sessions
FOLLOWED = "livenessCheck"  # the audit log's name for a followed session's outcome


@dataclass(frozen=True)
class Ticket:
    """A session as startLiveness hands it out."""

    id: str
    challenges: list[Challenge]
    expires_at: datetime
    person_id: str | None


@dataclass(frozen=True)
class LivenessOutcome:
    """A session's verdict and, for a session of a person, the verification of its most frontal frame."""

    session_id: str
    person_id: str | None
    verdict: Verdict
    verification: Verification | None  # None without a person, or when the session was not live


@dataclass(frozen=True)
class LivenessUpdate:
    """What livenessCheck streams after each frame (and once before the first): the step, and the end."""

    frame: int | None  # the frame's number as sendLiveFrame gave it; None for the first update
    step: Step
    error: ApiError | None  # a frame that could not be read (BAD_IMAGE) or was refused (BUSY); the session goes on
    outcome: LivenessOutcome | None  # set on the last update
    seconds_left: float


def audit_detail(outcome: LivenessOutcome) -> str:
    """The audit log's word on a session: live or why not, and the verification's decision."""
    verdict = outcome.verdict
    said = "live" if verdict.live else f"not live: {verdict.failed.value if verdict.failed else 'unknown'}"
    if outcome.verification is not None:
        said += ", match" if outcome.verification.match else ", no match"
    return said


def draw_challenges(count: int) -> list[Challenge]:
    """`count` distinct challenges in random order, at least one that a flat picture cannot meet."""
    if not 1 <= count <= LIVENESS_CHALLENGES_MAX:
        raise invalid(f"`challenges` must be 1 to {LIVENESS_CHALLENGES_MAX}")
    while True:
        drawn = _DRAW.sample(list(Challenge), count)
        if any(challenge in liveness.TURNS for challenge in drawn):
            return drawn


async def purge_expired() -> int:
    """Delete sessions that expired (used or not): how many. They hold no photo, only what was asked."""
    return await SessionRow.filter(expires_at__lt=datetime.now(UTC)).delete()


def _ticket(row: SessionRow) -> Ticket:
    challenges = [Challenge(value) for value in row.challenges]
    return Ticket(str(row.id), challenges, row.expires_at, str(row.person_id) if row.person_id else None)


async def start_liveness(ctx: Context, person_id: str | None, challenges: int, collection: str | None) -> Ticket:
    drawn = draw_challenges(challenges)
    person: PersonRow | None = None
    if person_id is not None:
        person = await get_person_row(ctx, person_id)
        collection_id = person.collection_id
    else:
        collection_id = (await chosen(ctx, collection)).id
    row = await SessionRow.create(
        key_id=ctx.principal.key_id if ctx.principal else None,
        collection_id=collection_id,
        person_id=person.id if person else None,
        challenges=[challenge.value for challenge in drawn],
        expires_at=datetime.now(UTC) + timedelta(seconds=LIVENESS_SESSION_TTL_S),
    )
    return _ticket(row)


async def _find(ctx: Context, session_id: str) -> SessionRow:
    """The key's own session: NOT_FOUND for another key's, as for none."""
    row = await SessionRow.get_or_none(id=parse_id(session_id, "session"))
    key = ctx.principal.key_id if ctx.principal else None
    if row is None or (str(row.key_id) if row.key_id else None) != key:
        raise not_found("liveness session", session_id)
    return row


async def _take(ctx: Context, row: SessionRow) -> None:
    """Use the session up: INVALID_INPUT once used or expired."""
    now = datetime.now(UTC)
    if row.expires_at <= now:
        raise invalid(f"this liveness session expired ({LIVENESS_SESSION_TTL_S} s after it started): start a new one")
    # One check a session, even for two sent at once: only the update that finds it unchecked goes on.
    if not await SessionRow.filter(id=row.id, checked_at=None).update(checked_at=now):
        raise invalid("this liveness session was already checked: start a new one")


async def _outcome(ctx: Context, row: SessionRow, verdict: Verdict, best: Observed | None) -> LivenessOutcome:
    verification = None
    if row.person_id is not None and verdict.live and best is not None and best.vector is not None:
        collection_id = str(row.collection_id)
        model = model_of(ctx, await CollectionRow.get(id=row.collection_id))
        cutoff = await threshold_of(ctx, Cutoff(), collection_id, model)
        options = SearchOptions(collection_id, model.id, cutoff, SEARCH_LIMIT_MAX)
        verification = await verify_embedding(ctx, best.vector, options, str(row.person_id), best.face)
    person_id = str(row.person_id) if row.person_id else None
    return LivenessOutcome(str(row.id), person_id, verdict, verification)


async def check_liveness(ctx: Context, session_id: str, frames: list[Photo]) -> LivenessOutcome:
    row = await _find(ctx, session_id)
    challenges = [Challenge(value) for value in row.challenges]
    if not len(challenges) + 1 <= len(frames) <= LIVENESS_FRAMES_MAX:
        raise invalid(
            f"`frames` must hold {len(challenges) + 1} to {LIVENESS_FRAMES_MAX} frames: a first look from the "
            "front, then each challenge in turn"
        )
    await _take(ctx, row)
    if ctx.principal is not None and is_rate_limited(ctx.principal):  # each frame, as a live stream's would
        ctx.rate_limits.hit(RateKind.LIVE_FRAMES, ctx.principal, cost=len(frames))
    model = model_of(ctx, await CollectionRow.get(id=row.collection_id))
    data = [await read_image(frame, ctx.services.settings.max_image_bytes) for frame in frames]
    observed = await ctx.services.engine.observe_frames(data, model.id)
    verdict = liveness.judge(challenges, observed, model.thresholds.default)
    return await _outcome(ctx, row, verdict, observed[verdict.best_frame])


async def follow_liveness(ctx: Context, session_id: str) -> AsyncGenerator[LivenessUpdate, None]:
    """Open the session's stream on this connection (checks first, then a live slot) and its updates.

    A plain coroutine, as live.open_stream: refusals are raised when the subscription is
    made, so its open is audited with them. The session is used up here, by the open.
    """
    live.require_websocket(ctx, "livenessCheck")
    row = await _find(ctx, session_id)
    if session_id in ctx.live_streams:
        raise invalid("this liveness session is already followed on this connection")
    model = model_of(ctx, await CollectionRow.get(id=row.collection_id))
    stream = live.claim_stream(ctx, session_id)  # BUSY before the session is used up
    try:
        await _take(ctx, row)
    except BaseException:
        live.close_stream(ctx, session_id)
        raise
    return _updates(ctx, row, stream, model.id, model.thresholds.default)


async def _updates(
    ctx: Context, row: SessionRow, stream: live.LiveStream, model: str, threshold: float
) -> AsyncGenerator[LivenessUpdate, None]:
    challenges = [Challenge(value) for value in row.challenges]
    follower = liveness.Follower(challenges, threshold, LIVENESS_KEYFRAMES_MAX, LIVENESS_CHALLENGE_WINDOW_S)
    # On sendLiveFrame's clock (perf_counter), which stamps each frame as it arrives.
    deadline = time.perf_counter() + (row.expires_at - datetime.now(UTC)).total_seconds()

    def left() -> float:
        """Seconds left: of the session, or of the move asked now when that ends first."""
        now = time.perf_counter()
        window = follower.window_left(now)
        return max(0.0, round(min(deadline - now, window if window is not None else math.inf), 1))

    try:
        yield LivenessUpdate(None, Step(None, 0, None, False, None), None, None, left())  # look at the camera
        while True:
            try:
                frame = await asyncio.wait_for(stream.next_frame(), max(0.0, deadline - time.perf_counter()))
            except TimeoutError:  # the session expired
                verdict = follower.expire()
                yield await _end(ctx, row, follower, verdict, None, Step(None, verdict.met, None, False, verdict))
                return
            error = None
            try:
                observed = (await ctx.services.engine.observe_frames([frame.data], model))[0]
            except Exception as exc:  # a bad frame or a busy server: say so, and go on with the next
                error = as_api_error(exc)
                if error is None:
                    raise
                observed = Observed(0)
            step = follower.add(observed, frame.received)
            if step.verdict is None:
                yield LivenessUpdate(frame.number, step, error, None, left())
                continue
            yield await _end(ctx, row, follower, step.verdict, frame.number, step)
            return
    finally:
        live.close_stream(ctx, str(row.id))


async def _end(
    ctx: Context, row: SessionRow, follower: liveness.Follower, verdict: Verdict, frame: int | None, step: Step
) -> LivenessUpdate:
    """The last update of a followed session, its outcome audited (the open was, by the subscription)."""
    best = follower.kept[verdict.best_frame] if verdict.live else None
    outcome = await _outcome(ctx, row, verdict, best)
    targets = [outcome.session_id] + ([outcome.person_id] if outcome.person_id else [])
    await audit.record(ctx.principal, FOLLOWED, targets, "OK", audit_detail(outcome))
    return LivenessUpdate(frame, step, None, outcome, 0.0)
