"""Live recognition over graphql-transport-ws, driven at the protocol level against a real server process."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from devdata import camera
from devdata.live_client import LiveClient
from models import DEFAULT_COLLECTION_ID
from tests.helpers import extensions_of
from tests.server import Server, enrolled_person, running_server

DEFAULT_COLLECTION = str(DEFAULT_COLLECTION_ID)

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # Short enough to see a stream idle out in a test, long enough for every other test's pauses.
    settings = {"LIVE_IDLE_TIMEOUT_S": "3", "RATE_LIMIT_LIVE_FRAMES": "6/minute"}
    with running_server(tmp_path_factory.mktemp("live"), **settings) as server:
        enrolled_person(server, "Angelina", camera.ENROLLED_PHOTO)
        yield server


@pytest.fixture(scope="module")
def video() -> list[bytes]:
    return camera.jpegs(camera.frames(count=30))


def errors_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The errors of an operation: an `error` message (refused before it ran) or a `next` with errors."""
    return message["payload"] if message["type"] == "error" else message["payload"]["errors"]


def answer_of(message: dict[str, Any]) -> dict[str, Any]:
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    return message["payload"]["data"]["liveRecognition"]


async def test_a_known_face_is_named_and_tracked_not_reidentified_every_frame(
    server: Server, client: LiveClient, video: list[bytes]
) -> None:
    live = await client.subscribe_live("camera")
    answers = []
    for number, jpeg in enumerate(video[:12]):
        sent = await client.send_frame("camera", number, jpeg)
        answers.append(answer_of(await client.next(live)))
        receipt = await client.next(sent)
        assert receipt["payload"]["data"]["sendLiveFrame"] == {"frame": number, "replacedFrame": None}
    assert [a["frame"] for a in answers] == list(range(12))
    faces = [a["faces"] for a in answers]
    assert all(len(f) == 1 for f in faces)
    assert {f[0]["best"]["person"]["name"] for f in faces} == {"Angelina"}
    assert all(f[0]["match"] for f in faces)
    assert len({f[0]["track"] for f in faces}) == 1, "the drifting face kept one track"
    # Identified on the first frame, then carried by the track (a known face is re-checked about every second).
    assert faces[0][0]["identifiedNow"]
    assert sum(f[0]["identifiedNow"] for f in faces) <= 3
    box = faces[0][0]["box"]
    assert 200 <= box["x"] + box["width"] / 2 <= 440 and box["width"] > 80  # the face in the frame's middle
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {server.key}"}) as http:
        metrics = (await http.get(f"{server.url}/metrics", headers={"Accept": "application/json"})).json()
    assert metrics["live_streams"] == 1
    await client.complete(live)


async def test_two_faces_get_their_own_tracks_and_a_stranger_is_rechecked_more_often(client: LiveClient) -> None:
    live = await client.subscribe_live("pair")
    pair = camera.jpegs([camera.side_by_side()])[0]
    answers = []
    for number in range(12):
        await client.send_frame("pair", number, pair)
        answers.append(answer_of(await client.next(live)))
        await asyncio.sleep(0.05)
    assert all(len(a["faces"]) == 2 for a in answers)
    left = [a["faces"][0] for a in answers]  # left to right
    right = [a["faces"][1] for a in answers]
    assert len({f["track"] for f in left}) == 1 and len({f["track"] for f in right}) == 1
    assert left[0]["track"] != right[0]["track"]
    assert all(f["match"] and f["best"]["person"]["name"] == "Angelina" for f in left)
    assert not any(f["match"] for f in right)
    assert left[0]["identifiedNow"] and right[0]["identifiedNow"]
    # A known face is re-checked about once a second, an unknown one four times as often.
    assert sum(f["identifiedNow"] for f in right) > sum(f["identifiedNow"] for f in left)
    await client.complete(live)


async def test_the_newest_frame_wins(client: LiveClient, video: list[bytes]) -> None:
    live = await client.subscribe_live("burst")
    receipts = [await client.send_frame("burst", number, jpeg) for number, jpeg in enumerate(video)]
    replaced = [(await client.next(op))["payload"]["data"]["sendLiveFrame"]["replacedFrame"] for op in receipts]
    answered = [answer_of(await client.next(live))]
    while answered[-1]["frame"] != len(video) - 1:
        answered.append(answer_of(await client.next(live)))
    frames = [a["frame"] for a in answered]
    assert frames == sorted(frames), "answers come in order"
    assert len(frames) < len(video), "a burst faster than the server is not queued"
    dropped = [r for r in replaced if r is not None]
    assert dropped and answered[-1]["droppedFrames"] == len(dropped)
    assert not set(dropped) & set(frames), "a replaced frame is never answered"
    await client.complete(live)


async def test_a_bad_frame_is_answered_with_its_code_and_the_stream_goes_on(
    client: LiveClient, video: list[bytes]
) -> None:
    live = await client.subscribe_live("flaky")
    await client.send_frame("flaky", 1, b"not a jpeg at all")
    bad = answer_of(await client.next(live))
    assert bad["frame"] == 1 and bad["faces"] == [] and bad["error"]["code"] == "BAD_IMAGE"
    await client.send_frame("flaky", 2, video[0])
    good = answer_of(await client.next(live))
    assert good["frame"] == 2 and good["error"] is None and good["faces"][0]["match"]
    await client.complete(live)


async def test_frames_only_reach_a_stream_on_their_own_connection(
    server: Server, client: LiveClient, video: list[bytes]
) -> None:
    live = await client.subscribe_live("mine")
    await client.send_frame("mine", 0, video[0])
    answer_of(await client.next(live))  # the stream is open
    duplicate = await client.subscribe_live("mine")
    refused = await client.next(duplicate)
    assert errors_of(refused)[0]["extensions"]["code"] == "INVALID_INPUT"

    other = await LiveClient.open(server.ws_url, {"Authorization": f"Bearer {server.key}"})
    try:
        stranger = await other.next(await other.send_frame("mine", 1, video[0]))
        assert errors_of(stranger)[0]["extensions"]["code"] == "NOT_FOUND"
    finally:
        await other.close()
    query = 'mutation($j: String!) { sendLiveFrame(stream: "mine", frame: 1, image: {base64: $j}) { frame } }'
    async with httpx.AsyncClient(timeout=60, headers={"Authorization": f"Bearer {server.key}"}) as http:
        variables = {"j": base64.b64encode(video[0]).decode("ascii")}
        over_http = (await http.post(f"{server.url}/graphql", json={"query": query, "variables": variables})).json()
    assert over_http["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    await client.complete(live)


async def test_the_key_comes_in_connection_init(server: Server, video: list[bytes]) -> None:
    with pytest.raises(ConnectionError, match="4403"):
        await LiveClient.open(server.ws_url, {"Authorization": "Bearer fid_not-a-key"})

    # Without a key the socket could do nothing: it is closed at once rather than held (with the reason).
    with pytest.raises(ConnectionError, match=r"4403.*API key is required"):
        await LiveClient.open(server.ws_url)
    # A bad key in the handshake's own header is refused the same way, with its reason (it was a bare 1006).
    with pytest.raises(ConnectionError, match=r"4403.*unknown or revoked"):
        await LiveClient.open(server.ws_url, Authorization="Bearer fid_not-a-key")

    created = server.graphql('mutation { createApiKey(name: "reader", scopes: [READ]) { secret } }')
    reader = await LiveClient.open(server.ws_url, {"X-API-Key": created["data"]["createApiKey"]["secret"]})
    try:
        refused = await reader.next(await reader.subscribe_live("camera"))
        assert extensions_of(errors_of(refused)[0]) == {"code": "FORBIDDEN", "scope": "VERIFY"}
    finally:
        await reader.close()


def test_a_stream_is_audited_once_not_per_frame(server: Server) -> None:
    entries = server.graphql("{ auditLog(first: 500) { edges { node { operation result } } } }")
    operations = [edge["node"]["operation"] for edge in entries["data"]["auditLog"]["edges"]]
    assert "liveRecognition" in operations
    assert "sendLiveFrame" not in operations


def new_key(server: Server, *scopes: str) -> tuple[str, str]:
    """A new key's (id, secret), made with the admin key."""
    made = server.graphql(
        'mutation($s: [ApiScope!]!) { createApiKey(name: "live test", scopes: $s) { secret apiKey { id } } }',
        s=list(scopes),
    )["data"]["createApiKey"]
    return made["apiKey"]["id"], made["secret"]


def live_audit(server: Server, key_id: str) -> list[str]:
    entries = server.graphql(
        'query($k: ID!) { auditLog(first: 500, keyId: $k, operation: "liveRecognition") '
        "{ edges { node { result } } } }",
        k=key_id,
    )
    return [edge["node"]["result"] for edge in entries["data"]["auditLog"]["edges"]]


async def test_a_revoked_key_closes_its_open_socket_before_the_next_operation(server: Server) -> None:
    key_id, secret = new_key(server, "ADMIN")
    socket = await LiveClient.open(server.ws_url, {"Authorization": f"Bearer {secret}"})
    try:
        first = await socket.next(await socket.start("{ model { name } }"))
        assert first["type"] == "next" and "errors" not in first["payload"]
        server.graphql("mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }", id=key_id)
        await socket.start('mutation { createApiKey(name: "minted after revocation", scopes: [ADMIN]) { secret } }')
        await asyncio.wait_for(socket.socket.wait_closed(), 2)
        assert socket.socket.close_code == 4403 and "revoked" in (socket.socket.close_reason or "")
    finally:
        await socket.close()
    keys = server.graphql("{ apiKeys(includeRevoked: true) { name } }")["data"]["apiKeys"]
    assert "minted after revocation" not in {key["name"] for key in keys}


async def test_one_key_cannot_hold_every_stream(server: Server, video: list[bytes]) -> None:
    key_id, secret = new_key(server, "VERIFY")
    holder = await LiveClient.open(server.ws_url, {"Authorization": f"Bearer {secret}"})
    admin = await LiveClient.open(server.ws_url, {"Authorization": f"Bearer {server.key}"})
    try:
        streams = [await holder.subscribe_live(f"held {n}") for n in range(2)]
        third = await holder.next(await holder.subscribe_live("held 2"))
        error = errors_of(third)[0]
        assert error["extensions"]["code"] == "BUSY" and error["extensions"]["retryAfter"] >= 1
        assert "LIVE_STREAMS_PER_KEY" in error["message"]
        # Another key still gets a stream, and it answers.
        live = await admin.subscribe_live("other key")
        await admin.send_frame("other key", 0, video[0])
        assert answer_of(await admin.next(live))["frame"] == 0
        await admin.complete(live)
        for stream in streams:
            await holder.complete(stream)
    finally:
        await holder.close()
        await admin.close()
    # Audited once per open, the refused one too; the frames wrote nothing.
    assert sorted(live_audit(server, key_id)) == ["BUSY", "OK", "OK"]


async def test_an_idle_stream_is_closed_and_its_slot_given_back(server: Server, client: LiveClient) -> None:
    live = await client.subscribe_live("idle")
    ended = await client.next(live, wait_s=10)  # LIVE_IDLE_TIMEOUT_S=3 on this server
    assert errors_of(ended)[0]["extensions"]["code"] == "REQUEST_TIMEOUT"
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {server.key}"}) as http:
        assert (await http.get(f"{server.url}/metrics", headers={"Accept": "application/json"})).json()[
            "live_streams"
        ] == 0


async def test_frames_have_a_rate_of_their_own(server: Server, video: list[bytes]) -> None:
    _, secret = new_key(server, "VERIFY")
    camera_key = await LiveClient.open(server.ws_url, {"Authorization": f"Bearer {secret}"})
    try:
        live = await camera_key.subscribe_live("rated")
        codes = []
        for number in range(7):  # RATE_LIMIT_LIVE_FRAMES=6/minute on this server
            receipt = await camera_key.next(await camera_key.send_frame("rated", number, video[0]))
            codes.append(errors_of(receipt)[0]["extensions"]["code"] if "errors" in receipt["payload"] else "OK")
            if codes[-1] == "OK":
                answer_of(await camera_key.next(live))
        assert codes == ["OK"] * 6 + ["RATE_LIMITED"]
        await camera_key.complete(live)
    finally:
        await camera_key.close()


async def test_a_late_frame_never_replaces_a_newer_one(client: LiveClient, video: list[bytes]) -> None:
    live = await client.subscribe_live("ordered")
    receipt = await client.next(await client.send_frame("ordered", 5, video[0]))
    assert receipt["payload"]["data"]["sendLiveFrame"]["frame"] == 5
    assert answer_of(await client.next(live))["frame"] == 5
    late = await client.start(
        'mutation($j: String!) { sendLiveFrame(stream: "ordered", frame: 3, image: {base64: $j}) { accepted } }',
        j=base64.b64encode(video[1]).decode("ascii"),
    )
    assert (await client.next(late))["payload"]["data"]["sendLiveFrame"]["accepted"] is False
    await client.send_frame("ordered", 6, video[2])
    following = answer_of(await client.next(live))
    assert following["frame"] == 6 and following["droppedFrames"] == 1
    await client.complete(live)


async def test_a_stream_searches_its_collection_and_a_key_reaches_no_other(server: Server, client: LiveClient) -> None:
    """The same face enrolled in another collection: a stream there names that collection's person; a key bound
    to the default collection cannot open one there (NOT_FOUND, as if it did not exist)."""
    made = server.graphql('mutation { createCollection(input: {name: "elsewhere"}) { id } }')
    elsewhere = made["data"]["createCollection"]["id"]
    enrolled_person(server, "Angelina elsewhere", camera.ENROLLED_PHOTO, elsewhere)
    live = await client.subscribe_live("there", collection=elsewhere)
    await client.send_frame("there", 1, camera.jpegs(camera.frames(count=1))[0])
    faces = answer_of(await client.next(live))["faces"]
    assert [face["best"]["person"]["name"] for face in faces] == ["Angelina elsewhere"]
    await client.complete(live)

    key = server.graphql(
        'mutation($c: [ID!]) { createApiKey(name: "door", scopes: [VERIFY], collections: $c) { secret } }',
        c=[DEFAULT_COLLECTION],
    )
    bound = await LiveClient.open(server.ws_url, {"Authorization": f"Bearer {key['data']['createApiKey']['secret']}"})
    try:
        refused = await bound.next(await bound.subscribe_live("there", collection=elsewhere))
        assert [error["extensions"]["code"] for error in errors_of(refused)] == ["NOT_FOUND"]
    finally:
        await bound.close()
