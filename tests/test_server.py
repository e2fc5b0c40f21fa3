"""The real server, as `python app.py` runs it: first start, slow clients, load, kill -9, and the CLI.

Each server here is its own process on a free port, with its own data directory.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

import devdata
from tests.helpers import ANGELINA
from tests.server import ROOT, Server, faceid, running_server

CREATE_FACE = "mutation($p: ID!, $b: String!) { createFace(personId: $p, image: {base64: $b}) { id } }"
# Short, so a stalled body is cut off quickly, yet long enough that four 9.3 MB bodies arriving at once
# on two busy cores all make it (at 1 s, one in a few runs got 408).
BODY_TIMEOUT_S = 4


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("server")


@pytest.fixture(scope="module")
def server(data_dir: Path) -> Iterator[Server]:
    with running_server(data_dir, BODY_TIMEOUT_S=str(BODY_TIMEOUT_S)) as server:
        yield server


def test_first_start_wrote_a_private_admin_key(server):
    assert oct((server.data_dir / "admin-api-key").stat().st_mode & 0o777) == "0o600"
    log = next(server.data_dir.glob(f"server-{server.port}.log")).read_text()
    assert server.key in log  # printed once at first start
    # A quiet start: none of TensorFlow's native INFO lines or CUDA probing.
    assert "I0000" not in log and "cuInit" not in log and "cpu_feature_guard" not in log, log[:2000]
    assert server.graphql("{ model { name } }")["data"]["model"]["name"]


def test_a_slow_body_is_cut_off(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {server.key}\r\n".encode()  # without a key, 100 KB is refused unread
            + b'Content-Length: 100000\r\n\r\n{"query": '
        )
        started = time.monotonic()
        answer = b""
        while b"}" not in answer.partition(b"\r\n\r\n")[2]:  # the head and the JSON body may come apart
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert b"REQUEST_TIMEOUT" in answer
    assert BODY_TIMEOUT_S - 0.5 < time.monotonic() - started < BODY_TIMEOUT_S + 4


def test_healthz_stays_quick_while_large_photos_arrive(server):
    """Base64 decoding and hashing run off the event loop, in slices: /healthz answers within 100 ms."""
    verifier = server.graphql('mutation { createApiKey(name: "load", scopes: [VERIFY]) { secret } }')
    headers = {
        "Authorization": f"Bearer {verifier['data']['createApiKey']['secret']}",
        "content-type": "application/json",
    }
    # A real photo padded to 7 MB (JPEG decoders ignore what follows the image): 9.3 MB of base64,
    # encoded once here so that the client's own work does not slow the probe.
    photo = base64.b64encode(ANGELINA[0].read_bytes() + bytes(7 * 1024 * 1024)).decode()
    body = json.dumps(
        {"query": "query($b: String!) { verifyLinear(image: {base64: $b}) { match } }", "variables": {"b": photo}}
    )
    latencies: list[float] = []
    stop = threading.Event()

    def probe() -> None:
        with httpx.Client(timeout=10) as client:
            while not stop.is_set():
                started = time.perf_counter()
                assert client.get(f"{server.url}/healthz").status_code == 200
                latencies.append(time.perf_counter() - started)
                time.sleep(0.01)

    def verify(_: int) -> int:
        return httpx.post(f"{server.url}/graphql", content=body, headers=headers, timeout=120).status_code

    prober = threading.Thread(target=probe)
    prober.start()
    try:
        with ThreadPoolExecutor(4) as pool:
            statuses = list(pool.map(verify, range(8)))
    finally:
        stop.set()
        prober.join()
    assert statuses == [200] * 8
    latencies.sort()
    assert len(latencies) > 20
    assert latencies[int(len(latencies) * 0.95)] < 0.1, latencies[-10:]


def test_the_command_line_manages_keys(server):
    created = faceid(server, "keys", "create", "kiosk", "--scope", "verify", "--scope", "read")
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    assert secret.startswith("fid_") and "kiosk" in created.stderr
    assert server.graphql("{ model { name } }", key=secret)["data"]["model"]["name"]

    listed = faceid(server, "keys", "list")
    line = next(line for line in listed.stdout.splitlines() if "kiosk" in line)
    assert "READ,VERIFY" in line and secret not in listed.stdout
    key_id = line.split()[0]
    assert faceid(server, "keys", "revoke", key_id).returncode == 0
    assert "errors" in server.graphql("{ model { name } }", key=secret)

    refused = faceid(server, "--api-key", secret, "keys", "list")
    assert refused.returncode != 0 and "UNAUTHENTICATED" in refused.stderr
    keyless = {**os.environ, "FACEID_URL": server.url, "DATA_DIR": str(server.data_dir / "nowhere")}
    keyless.pop("FACEID_API_KEY", None)
    command = [sys.executable, "-m", "cli.main", "keys", "list"]
    nokey = subprocess.run(command, cwd=ROOT, env=keyless, capture_output=True, text=True, timeout=120)
    assert nokey.returncode != 0 and "give one with --api-key or FACEID_API_KEY" in nokey.stderr


def test_the_command_line_manages_collections_and_imports_into_one(server, tmp_path):
    created = faceid(server, "collections", "create", "lobby", "--max-persons", "5")
    assert created.returncode == 0, created.stderr
    lobby = created.stdout.strip()
    photos = tmp_path / "photos"
    (photos / "Angelina").mkdir(parents=True)
    shutil.copy(ANGELINA[0], photos / "Angelina")
    imported = faceid(server, "import", "--collection", lobby, str(photos))
    assert imported.returncode == 0 and "enrolled 1 photos" in imported.stdout, imported.stderr
    listed = faceid(server, "collections", "list").stdout
    line = next(line for line in listed.splitlines() if line.startswith(lobby))
    assert "lobby" in line and "1 persons" in line and "1 faces" in line and "max 5 persons" in line
    # A key bound to the lobby: its import goes there without --collection, and it sees no other collection.
    key = faceid(server, "keys", "create", "lobby kiosk", "--scope", "enrol", "--scope", "read", "--collection", lobby)
    secret = key.stdout.strip()
    assert [
        row.split()[1] for row in faceid(server, "--api-key", secret, "collections", "list").stdout.splitlines()
    ] == ["lobby"]
    again = faceid(server, "--api-key", secret, "import", str(photos))
    assert "1 already enrolled" in again.stdout, again.stderr
    deleted = faceid(server, "collections", "delete", "--yes", lobby)
    assert deleted.returncode == 0 and "1 persons, 1 faces" in deleted.stdout, deleted.stderr
    assert lobby not in faceid(server, "collections", "list").stdout


def test_import_is_resumable_and_export_restore_round_trips(server, tmp_path):
    photos = tmp_path / "photos"
    for name, files in list(devdata.celebrity_photos("val").items())[:2]:
        (photos / name).mkdir(parents=True)
        for photo in files[:3]:
            shutil.copy(photo, photos / name / photo.name)
    next(photos.iterdir()).joinpath("broken.jpg").write_bytes(b"not a photo")
    first = faceid(server, "import", str(photos))
    assert first.returncode == 1, first.stderr  # a photo failed: a script must see it
    assert "enrolled 6 photos" in first.stdout and "2 persons created" in first.stdout
    assert "BAD_IMAGE" in first.stdout and "broken.jpg: BAD_IMAGE: " in first.stdout  # the server's reason
    again = faceid(server, "import", str(photos))
    assert "enrolled 0 photos" in again.stdout and "6 already enrolled" in again.stdout
    empty = faceid(server, "import", str(photos / "Nobody"))
    assert empty.returncode != 0
    (photos / "Nobody").mkdir()
    empty = faceid(server, "import", str(photos / "Nobody"))
    assert empty.returncode != 0 and "holds no person folder with photos" in empty.stderr

    exported = tmp_path / "gallery.jsonl"
    exported.write_text("")
    exported.chmod(0o644)  # a file already there, readable by all: the export closes it
    assert faceid(server, "export", str(exported)).returncode == 0
    assert stat.S_IMODE(exported.stat().st_mode) == 0o600  # embeddings and crops: its owner's alone
    with running_server(tmp_path / "other") as other:
        restored = faceid(other, "restore", str(exported))
        assert restored.returncode == 0, restored.stderr
        assert "0 persons and 0 faces already there" in restored.stdout
        again = faceid(other, "restore", str(exported))  # again: nothing changes
        assert again.returncode == 0 and "0 persons and 0 faces new" in again.stdout, again.stdout
        copy = tmp_path / "copy.jsonl"
        assert faceid(other, "export", str(copy)).returncode == 0
        assert copy.read_bytes() == exported.read_bytes()  # ids, times, embeddings and crops, exactly
        health = httpx.get(f"{other.url}/healthz").json()
        assert health["faces"] == sum('"face"' in line[:10] for line in exported.read_text().splitlines())


def test_kill_9_during_enrolment_leaves_database_and_gallery_agreeing(tmp_path):
    photos = [photo for photos in devdata.celebrity_photos("train").values() for photo in photos]
    acknowledged: list[str] = []
    with running_server(tmp_path) as server:
        person = server.graphql('mutation { createPerson(input: {name: "stream"}) { id } }')["data"]
        person_id = person["createPerson"]["id"]

        def enrol(photo: Path) -> None:
            try:
                body = server.graphql(CREATE_FACE, p=person_id, b=base64.b64encode(photo.read_bytes()).decode())
            except httpx.HTTPError:
                return  # the server died under this request
            if body.get("data") and body["data"].get("createFace"):
                acknowledged.append(body["data"]["createFace"]["id"])

        with ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(enrol, photo) for photo in photos]
            while len(acknowledged) < 6:
                time.sleep(0.05)
            server.process.send_signal(signal.SIGKILL)
            server.process.wait(30)
            for future in futures:
                future.result()

    database = tmp_path / "faces.sqlite3"
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    with running_server(tmp_path) as server:
        health = httpx.get(f"{server.url}/healthz").json()
        faces = server.graphql("{ faces(first: 500) { totalCount edges { node { id } } } }")["data"]["faces"]
        stored = [edge["node"]["id"] for edge in faces["edges"]]
        assert health["faces"] == faces["totalCount"] == len(stored)
        assert set(acknowledged) <= set(stored)  # every answered enrolment survived
        assert len(stored) < len(photos)  # the kill did interrupt the stream
        for face_id in stored:
            embedding = server.graphql(
                "query($id: ID!) { faceEmbedding(faceId: $id) { dimension vector } }", id=face_id
            )["data"]["faceEmbedding"]
            assert embedding["dimension"] == len(embedding["vector"]) == 128
        probe = devdata.celebrity_photos("train")["ben_afflek"][0]
        found = server.graphql(
            "query($b: String!) { verifyLinear(image: {base64: $b}) { searched } }",
            b=base64.b64encode(probe.read_bytes()).decode(),
        )
        assert found["data"]["verifyLinear"]["searched"] == len(stored)
