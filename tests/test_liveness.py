"""Liveness through the API: startLiveness, then checkLiveness (HTTP) and livenessCheck (WebSocket), on LFW photos.

The sessions are devdata.liveness's, a smaller sample of each set bench/liveness.py measures:
bona fide sequences of a person's photos meeting the challenges the server drew, and the
attacks (a still photo, a tilted print, another order, another person half-way, two faces).
The server draws the challenges; a session is matched to a person of the pool whose photos
can meet them (the pool's people have 8 to 14 photos, each pose in a few).
"""

from __future__ import annotations

import base64
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from devdata import liveness as sets
from devdata.live_client import LiveClient
from ml import liveness
from ml.detection import Box, Detection
from ml.liveness import Challenge
from ml.pipeline import FacePipeline, LocatedFace
from ml.quality import FaceQuality
from models import AuditEntry
from models import LivenessSession as SessionRow
from resolvers import liveness as sessions
from tests.helpers import Api, extensions_of
from tests.server import Server, running_server

START = """mutation($p: ID, $n: Int!) {
  startLiveness(personId: $p, challenges: $n) { id challenges instructions expiresAt personId }
}"""
CHECK = """mutation($s: ID!, $f: [ImageInput!]!) {
  checkLiveness(session: $s, frames: $f) {
    sessionId live score failedCheck reason frames metChallenges
    verification { match threshold best { person { id name } } }
  }
}"""
FOLLOW = """subscription($s: ID!) {
  livenessCheck(session: $s) {
    frame asked instruction metChallenges faceInView secondsLeft pose { yawDegrees pitchDegrees scale }
    error { code }
    result { live failedCheck reason frames metChallenges verification { match best { person { name } } } }
  }
}"""


@dataclass(frozen=True)
class Drawn:
    id: str
    challenges: tuple[Challenge, ...]
    person: sets.Person  # one of the pool whose photos meet them
    frames: list[bytes]  # that person's bona fide frames for them


@pytest.fixture(scope="module")
def pool(liveness_pool: list[sets.Person]) -> list[sets.Person]:
    return liveness_pool


def _frames_json(frames: list[bytes]) -> list[dict[str, str]]:
    return [{"base64": base64.b64encode(frame).decode("ascii")} for frame in frames]


async def start(api: Api, pool: list[sets.Person], count: int = 3) -> Drawn:
    """A session the pool can meet (drawn again until one fits: a client cannot choose its challenges)."""
    for _ in range(50):
        session = (await api.ok(START, p=None, n=count))["startLiveness"]
        challenges = tuple(Challenge(c) for c in session["challenges"])
        found = next(sets.fitting(pool, challenges), None)
        if found is not None:
            return Drawn(session["id"], challenges, *found)
    raise AssertionError("no person of the pool meets 50 draws in a row")


async def start_for(api: Api, person_id: str, person: sets.Person) -> Drawn:
    """A session of `person_id` that `person`'s photos can meet."""
    for _ in range(300):
        session = (await api.ok(START, p=person_id, n=3))["startLiveness"]
        challenges = tuple(Challenge(c) for c in session["challenges"])
        frames = sets.bona_fide_frames(person, challenges, random.Random(sets.SEED))
        if frames is not None:
            return Drawn(session["id"], challenges, person, frames)
    raise AssertionError(f"{person.name}'s photos meet none of 300 draws")


async def check(api: Api, session: str, frames: list[bytes]) -> dict[str, Any]:
    return (await api.ok(CHECK, s=session, f=_frames_json(frames)))["checkLiveness"]


async def enrolled(api: Api, person: sets.Person) -> str:
    """The person enrolled from a photo of theirs other than the frontal one every session starts with; their id."""
    person_id = await api.create_person(person.name)
    photo = next(p for i, p in enumerate(person.photos) if i != person.first and person.observed[i].faces == 1)
    await api.ok(
        "mutation($p: ID!, $b: String!) "
        "{ createFace(personId: $p, image: {base64: $b}, allowLowQuality: true) { id } }",
        p=person_id,
        b=base64.b64encode(photo).decode("ascii"),
    )
    return person_id


def test_the_pool_covers_every_challenge(pool: list[sets.Person]) -> None:
    """The sessions below can be met whatever the server draws: each challenge alone has people who meet it."""
    assert len(pool) >= 25
    for challenge in Challenge:
        assert len(list(sets.fitting(pool, (challenge,)))) >= 3, challenge


async def test_a_session_is_drawn_at_random_with_a_turn_and_expires(api: Api) -> None:
    drawn = [(await api.ok(START, p=None, n=3))["startLiveness"] for _ in range(12)]
    assert all(len(set(s["challenges"])) == 3 for s in drawn)
    assert all(any(c in {t.value for t in liveness.TURNS} for c in s["challenges"]) for s in drawn)
    assert len({tuple(s["challenges"]) for s in drawn}) > 3, "not one fixed sequence"
    assert drawn[0]["instructions"][0] == liveness.INSTRUCTIONS[Challenge(drawn[0]["challenges"][0])]
    expires = datetime.fromisoformat(drawn[0]["expiresAt"])
    assert timedelta(seconds=50) < expires - datetime.now(UTC) <= timedelta(seconds=60)
    for count in (0, 6):
        error = await api.error(START, p=None, n=count)
        assert extensions_of(error)["code"] == "INVALID_INPUT"


async def test_a_live_person_passes_and_is_verified_in_the_same_answer(api: Api, pool: list[sets.Person]) -> None:
    person = sets.most_covered(pool)
    session = await start_for(api, await enrolled(api, person), person)
    result = await check(api, session.id, session.frames)
    assert result["live"], result
    assert result["failedCheck"] is None and result["metChallenges"] == 3 and result["score"] >= 1.0
    assert result["verification"]["match"], result
    assert result["verification"]["best"]["person"]["name"] == person.name
    entry = await AuditEntry.filter(operation="checkLiveness").order_by("-created_at").first()
    assert entry is not None and entry.result == "OK" and entry.detail == "live, match"
    assert session.id in entry.targets


async def test_a_live_session_of_someone_else_does_not_match(api: Api, pool: list[sets.Person]) -> None:
    """Liveness with verify: the live face is compared with the session's person, not with whoever passes."""
    stranger = sets.most_covered(pool)
    claimed = await enrolled(api, sets.most_covered(pool, but=stranger.name))
    session = await start_for(api, claimed, stranger)
    result = await check(api, session.id, session.frames)
    assert result["live"], result
    assert result["verification"] is not None and not result["verification"]["match"], result
    alone = await start(api, pool)
    result = await check(api, alone.id, alone.frames)  # liveness alone: no verification
    assert result["live"] and result["verification"] is None, result


async def test_a_photo_held_still_fails(api: Api, pool: list[sets.Person]) -> None:
    for noisy in (False, True):
        session = await start(api, pool)
        frames = sets.still_frames(session.person, session.challenges, random.Random(1), noisy)
        result = await check(api, session.id, frames)
        assert not result["live"], result
        assert result["failedCheck"] == ("CHALLENGE" if noisy else "FROZEN"), result
        assert result["verification"] is None


async def test_a_tilted_print_fails(api: Api, pool: list[sets.Person]) -> None:
    for seed in range(3):
        session = await start(api, pool)
        frames = sets.warped_frames(session.person, session.challenges, random.Random(seed))
        result = await check(api, session.id, frames)
        assert not result["live"], result
        assert result["failedCheck"] in {"CHALLENGE", "FLAT", "ONE_FACE"}, result


async def test_a_recording_in_another_order_fails(api: Api, pool: list[sets.Person]) -> None:
    session = await start(api, pool)
    replayed = None
    for order in itertools.permutations(session.challenges):
        if order != session.challenges:
            replayed = sets.bona_fide_frames(session.person, order, random.Random(sets.SEED))
            if replayed is not None:
                break
    assert replayed is not None
    result = await check(api, session.id, replayed)
    assert not result["live"], result
    assert result["failedCheck"] in {"ORDER", "CHALLENGE"}, result


async def test_a_switch_to_another_person_half_way_fails(api: Api, pool: list[sets.Person]) -> None:
    session = await start(api, pool)
    other = next(frames for person, frames in sets.fitting(pool, session.challenges, but=session.person.name))
    result = await check(api, session.id, session.frames[:2] + other[2:])
    assert not result["live"], result
    assert result["failedCheck"] == "IDENTITY", result


async def test_two_faces_in_a_frame_fail(api: Api, pool: list[sets.Person]) -> None:
    session = await start(api, pool)
    other = next(p for p in pool if p.name != session.person.name)
    frames = list(session.frames)
    frames[2] = sets.side_by_side(frames[2], other.photos[other.first])
    result = await check(api, session.id, frames)
    assert not result["live"] and result["failedCheck"] == "ONE_FACE", result
    assert "frame 3" in result["reason"]


async def test_a_session_is_checked_once_by_its_own_key_before_it_expires(api: Api, pool: list[sets.Person]) -> None:
    session = await start(api, pool)
    # Too few or too many frames: refused before the session is used up.
    for count in (3, 31):
        error = await api.error(CHECK, s=session.id, f=_frames_json([session.frames[0]] * count))
        assert extensions_of(error)["code"] == "INVALID_INPUT", error
    other = api.as_key(await api.new_key("VERIFY", name="another app"))
    error = await other.error(CHECK, s=session.id, f=_frames_json(session.frames))
    assert extensions_of(error)["code"] == "NOT_FOUND", "another key's session is not there for it"
    assert (await check(api, session.id, session.frames))["live"]
    error = await api.error(CHECK, s=session.id, f=_frames_json(session.frames))
    assert extensions_of(error)["code"] == "INVALID_INPUT" and "already checked" in error["message"]

    late = await start(api, pool)
    await SessionRow.filter(id=late.id).update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    error = await api.error(CHECK, s=late.id, f=_frames_json(late.frames))
    assert extensions_of(error)["code"] == "INVALID_INPUT" and "expired" in error["message"]
    error = await api.error(CHECK, s="00000000-0000-0000-0000-000000000000", f=_frames_json(late.frames))
    assert extensions_of(error)["code"] == "NOT_FOUND"
    assert await sessions.purge_expired() >= 1  # the server's hourly clean-up
    assert not await SessionRow.filter(id=late.id).exists()


# Over WebSocket, against a real server process: a camera's frames with sendLiveFrame.


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("liveness"), RATE_LIMIT_LIVE_FRAMES="12/minute") as server:
        yield server


def _ws_session(server: Server, pool: list[sets.Person]) -> Drawn:
    for _ in range(50):
        session = server.graphql(START, p=None, n=3)["data"]["startLiveness"]
        challenges = tuple(Challenge(c) for c in session["challenges"])
        found = next(sets.fitting(pool, challenges), None)
        if found is not None:
            return Drawn(session["id"], challenges, *found)
    raise AssertionError("no person of the pool meets 50 draws in a row")


async def _follow(client: LiveClient, session: Drawn, frames: list[bytes]) -> list[dict[str, Any]]:
    """Every update of the session, the frames sent one after another as each answer comes."""
    op = await client.start(FOLLOW, s=session.id)
    updates = [(await client.next(op))["payload"]["data"]["livenessCheck"]]
    for number, frame in enumerate(frames):
        await client.send_frame(session.id, number, frame)
        message = await client.next(op)
        assert message["type"] == "next", message
        updates.append(message["payload"]["data"]["livenessCheck"])
        if updates[-1]["result"] is not None:
            assert (await client.next(op))["type"] == "complete"
            break
    return updates


async def test_a_camera_is_followed_over_websocket(server: Server, client: LiveClient, pool: list[sets.Person]) -> None:
    session = _ws_session(server, pool)
    updates = await _follow(client, session, session.frames)
    assert updates[0]["asked"] is None and updates[0]["instruction"] == "Look straight at the camera"
    asked = [u["asked"] for u in updates[1:-1]]
    assert asked == [c.value for c in session.challenges[: len(asked)]], "what to do next, in the session's order"
    assert [u["metChallenges"] for u in updates[1:]] == list(range(len(updates) - 1))
    assert all(u["faceInView"] for u in updates[1:])
    result = updates[-1]["result"]
    assert result["live"] and result["metChallenges"] == 3, result


async def test_another_key_cannot_follow_a_session(server: Server, pool: list[sets.Person]) -> None:
    session = _ws_session(server, pool)
    secret = server.graphql('mutation { createApiKey(name: "another", scopes: [VERIFY]) { secret } }')
    other = await LiveClient.open(
        server.ws_url, {"Authorization": f"Bearer {secret['data']['createApiKey']['secret']}"}
    )
    try:
        message = await other.next(await other.start(FOLLOW, s=session.id))
    finally:
        await other.close()
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "NOT_FOUND", message


async def test_a_second_face_ends_a_followed_session(
    server: Server, client: LiveClient, pool: list[sets.Person]
) -> None:
    session = _ws_session(server, pool)
    other = next(p for p in pool if p.name != session.person.name)
    frames = [session.frames[0], sets.side_by_side(session.frames[1], other.photos[other.first])]
    updates = await _follow(client, session, frames)
    assert updates[-1]["result"]["failedCheck"] == "ONE_FACE", updates[-1]
    entries = await_entries(server, "livenessCheck")
    assert any(e["targets"][0] == session.id and e["detail"] == "not live: ONE_FACE" for e in entries), entries


def await_entries(server: Server, operation: str) -> list[dict[str, Any]]:
    body = server.graphql(
        "query($o: String) { auditLog(last: 50, operation: $o) { edges { node { targets detail result } } } }",
        o=operation,
    )
    return [edge["node"] for edge in body["data"]["auditLog"]["edges"]]


async def test_a_burst_counts_each_frame_against_the_key_s_frame_rate(server: Server, pool: list[sets.Person]) -> None:
    key = server.graphql('mutation { createApiKey(name: "kiosk", scopes: [VERIFY]) { secret } }')
    secret = key["data"]["createApiKey"]["secret"]
    session = server.graphql(START, p=None, n=3, key=secret)["data"]["startLiveness"]
    frames = _frames_json([pool[0].photos[pool[0].first]] * 13)  # RATE_LIMIT_LIVE_FRAMES=12/minute here
    body = server.graphql(CHECK, s=session["id"], f=frames, key=secret)
    assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED", body


# The pose itself, on landmarks alone.

FRONT = np.array([[100, 100], [160, 100], [130, 135], [108, 168], [152, 168]], dtype=np.float64)


def _through(homography: np.ndarray, points: np.ndarray) -> np.ndarray:
    moved = np.hstack([points, np.ones((len(points), 1))]) @ homography.T
    return moved[:, :2] / moved[:, 2:]


def test_a_flat_picture_however_tilted_keeps_its_pose_and_a_turned_head_does_not() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):  # a print tilted, turned, moved and scaled: one homography for all five points
        homography = np.eye(3) + np.array(
            [[rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3), rng.uniform(-40, 40)],
             [rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3), rng.uniform(-40, 40)],
             [rng.uniform(-1e-3, 1e-3), rng.uniform(-1e-3, 1e-3), 0]]
        )  # fmt: skip
        moved = liveness.pose(FRONT, _through(homography, FRONT))
        assert moved is not None
        assert abs(moved.yaw_deg) < 0.5 and abs(moved.pitch_deg) < 0.5, moved
        met = liveness.strongest(moved)
        assert met is None or met[0] is Challenge.COME_CLOSER, met  # a print may only come closer
    turned = FRONT.copy()
    turned[2, 0] += 14  # the nose, in front of the face, moves across it as the head turns to its left
    moved = liveness.pose(FRONT, turned)
    assert moved is not None and moved.yaw_deg > liveness.TURN_MIN_DEG
    assert liveness.strongest(moved) == (Challenge.TURN_LEFT, pytest.approx(moved.yaw_deg / liveness.TURN_MIN_DEG))


def test_a_verdict_needs_frames_and_one_face_in_each() -> None:
    assert liveness.judge([Challenge.TURN_LEFT], [], 1.0).failed is liveness.FailedCheck.FRAMES
    two = liveness.judge([Challenge.TURN_LEFT], [liveness.Observed(2), liveness.Observed(1)], 1.0)
    assert two.failed is liveness.FailedCheck.ONE_FACE and not two.live


def test_a_followed_session_gives_each_move_its_window(pool: list[sets.Person], pipeline: FacePipeline) -> None:
    person = sets.most_covered(pool)
    challenges, photos = next(
        (c, f) for c in itertools.permutations(list(Challenge), 2) for _, f in sets.fitting([person], c)
    )
    frames, threshold = liveness.observe(pipeline, photos), pipeline.default_threshold
    late = liveness.Follower(challenges, threshold, 60, window_s=5)
    assert late.add(frames[0], at=100.0).asked is challenges[0]
    assert late.window_left(103.0) == 2.0
    ended = late.add(frames[0], at=105.5).verdict  # still looking ahead, 5.5 s on
    assert ended is not None and ended.failed is liveness.FailedCheck.CHALLENGE and "within 5 s" in ended.reason
    timely = liveness.Follower(challenges, threshold, 60, window_s=5)
    steps = [timely.add(frame, at=100.0 + 4 * i) for i, frame in enumerate(frames)]  # each move 4 s after the last
    assert steps[-1].verdict is not None and steps[-1].verdict.live, steps[-1]


def _seen(x: float, nose_dx: float, rng: np.random.Generator, nose_dy: float = 0.0) -> liveness.Observed:
    """A face 100 px wide at `x`, its nose moved by a turn and a nod, the same identity every time."""
    points = FRONT - FRONT[:, :1].min() + [x, 0]
    points[2] += [nose_dx, nose_dy]
    detection = Detection(Box(int(x), 80, 100, 110), 0.99, points.astype(np.float32))
    crop = rng.integers(0, 256, (112, 112, 3), dtype=np.uint8)  # a new picture every frame
    face = LocatedFace(detection, crop, "test", FaceQuality(60.0, 100.0, 0.0, 0.0, 0.99))
    return liveness.Observed(1, face, np.eye(128, dtype=np.float32)[0])


def test_a_followed_face_may_cross_the_frame_but_not_jump() -> None:
    rng = np.random.default_rng(1)
    walked = liveness.Follower([Challenge.TURN_LEFT], 1.0, 60)
    for step in range(8):  # a person walking across the camera's view, 30 px a frame, looking ahead
        assert walked.add(_seen(30.0 * step, 0.0, rng)).verdict is None
    verdict = walked.add(_seen(240.0, 14.0, rng)).verdict  # then turning: far from the first frame's box
    assert verdict is not None and verdict.live, verdict
    jumped = liveness.Follower([Challenge.TURN_LEFT], 1.0, 60)
    jumped.add(_seen(0.0, 0.0, rng))
    verdict = jumped.add(_seen(240.0, 14.0, rng)).verdict
    assert verdict is not None and verdict.failed is liveness.FailedCheck.TRACK, verdict


def test_a_followed_head_already_turned_meets_the_next_move_with_a_little_more() -> None:
    """Turned left and a little up, then a little more up: LOOK_UP is met, though the pose moved under 5 degrees."""
    rng = np.random.default_rng(2)
    follower = liveness.Follower([Challenge.TURN_LEFT, Challenge.LOOK_UP], 1.0, 60)
    follower.add(_seen(0.0, 0.0, rng))
    turned = _seen(0.0, 14.0, rng, nose_dy=-9.0)  # 27 degrees left, 16 up: TURN_LEFT met
    assert follower.add(turned).asked is Challenge.LOOK_UP
    assert follower.add(turned).verdict is None, "the same picture again is not new evidence"
    verdict = follower.add(_seen(0.0, 14.0, rng, nose_dy=-10.0)).verdict  # 1.5 degrees more up, a new picture
    assert verdict is not None and verdict.live, verdict
