"""reembedCollection: a collection moves from one embedding model to another from its stored crops, in a
background job, while 1:K goes on answering with the old model.

Two collections hold the same 200 LFW photos (50 persons x 4): X enrolled with facenet512, Y with facenet128.
X is then re-embedded to facenet128, and its answers must be Y's. On SQLite (memory backend) and on
PostgreSQL (pgvector backend); the crash and resume, and the progress subscription, on a real server process.
"""

from __future__ import annotations

import asyncio
import base64
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

import devdata
from devdata.live_client import LiveClient
from devdata.postgres import LocalPostgres
from ml.pipeline import FacePipeline
from services import build_pipelines
from settings import Settings
from tests.helpers import ADMIN_KEY, Api, b64, migrated_database, server_settings, start_api
from tests.server import Server, faceid, running_server

FROM, TO = "facenet512", "facenet128"
PERSONS, ENROLLED_EACH = 50, 4  # 200 faces; each person's fifth photo is a probe
JOB_TIMEOUT_S = 600
CREATE = "mutation($i: CollectionInput!) { createCollection(input: $i) { id model } }"
REEMBED = "mutation($id: ID!, $m: String!) { reembedCollection(id: $id, model: $m) { id state fromModel toModel } }"
JOB = "query($id: ID!) { job(id: $id) { state total done skippedCount skipped { faceId reason } progress error } }"
VERIFY = """query($b: String!, $c: ID) {
  verifyLinear(image: {base64: $b}, collection: $c, limit: 3) {
    match model searched threshold candidates { distance person { name } }
  }
}"""
ENROL = "mutation($n: String!, $c: ID) { createPerson(input: {name: $n}, collection: $c) { id } }"
# Re-embedding starts from the crop enrolment stored (facenet512's aligned 160 px crop), not from the photo:
# the face is found again in it and cut with facenet128's recipe, so its distances come close to a fresh
# enrolment's without being the same bits. Measured on these 50 probes: at most 0.137 apart (mean 0.026),
# against a threshold of about 1.09.
DISTANCE_TOLERANCE = 0.2


def lfw_people() -> dict[str, list[Path]]:
    """The first PERSONS people of LFW (by name) with at least ENROLLED_EACH + 1 photos: enrolled, then the probe."""
    people: dict[str, list[Path]] = {}
    for folder in sorted((devdata.LFW / "images").iterdir()):
        photos = sorted(folder.glob("*.jpg"))
        if len(photos) > ENROLLED_EACH:
            people[folder.name] = photos[: ENROLLED_EACH + 1]
        if len(people) == PERSONS:
            break
    return people


@pytest.fixture(scope="module")
def two_models() -> list[FacePipeline]:
    return build_pipelines(Settings(embedder=FROM, embedders=(TO,)))


@pytest.fixture(scope="module", params=["sqlite", "pgvector"])
def job_settings(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp("jobs")
    fast = {"rate_limit_enrol": "100000/minute", "rate_limit_verify": "100000/minute"}
    if request.param == "sqlite":
        return server_settings(data_dir, **fast)
    url = migrated_database(request.getfixturevalue("postgres"))
    return server_settings(data_dir, database_url=url, search_backend="pgvector", **fast)


@pytest.fixture(scope="module")
async def api(job_settings: Settings, two_models: list[FacePipeline]):
    async with start_api(job_settings, two_models) as client:
        yield client


async def enrol_all(api: Api, collection: str, people: dict[str, list[Path]]) -> None:
    async def one(name: str, photos: list[Path]) -> None:
        person = (await api.ok(ENROL, n=name, c=collection))["createPerson"]["id"]
        for photo in photos[:ENROLLED_EACH]:
            await api.enrol(person, photo)

    names = list(people)
    for start in range(0, len(names), 8):  # a few at a time: the engine batches them
        await asyncio.gather(*(one(name, people[name]) for name in names[start : start + 8]))


async def answers(api: Api, collection: str, people: dict[str, list[Path]]) -> dict[str, dict[str, Any]]:
    found = {}
    for name, photos in people.items():
        found[name] = (await api.ok(VERIFY, b=b64(photos[ENROLLED_EACH]), c=collection))["verifyLinear"]
    return found


async def finished(api: Api, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while time.monotonic() < deadline:
        job = (await api.ok(JOB, id=job_id))["job"]
        if job["state"] != "RUNNING":
            return job
        await asyncio.sleep(0.5)
    raise TimeoutError(f"job {job_id} still running after {JOB_TIMEOUT_S} s")


async def test_a_reembedded_collection_answers_as_one_enrolled_with_the_new_model(api: Api):
    people = lfw_people()
    models = {m["embedder"]: m["name"] for m in (await api.ok("{ models { name embedder isDefault } }"))["models"]}
    x = (await api.ok(CREATE, i={"name": "x", "model": FROM}))["createCollection"]
    y = (await api.ok(CREATE, i={"name": "y", "model": models[TO]}))["createCollection"]
    assert (x["model"], y["model"]) == (models[FROM], models[TO])
    await enrol_all(api, x["id"], people)
    await enrol_all(api, y["id"], people)
    before = await answers(api, x["id"], people)

    job = (await api.ok(REEMBED, id=x["id"], m=TO))["reembedCollection"]
    assert job["state"] == "RUNNING" and (job["fromModel"], job["toModel"]) == (models[FROM], models[TO])
    again = await api.error(REEMBED, id=x["id"], m=TO)
    assert again["extensions"]["code"] == "INVALID_INPUT"  # one job per collection at a time
    # While it runs: answers from the old model, without error, the same as before.
    probe, name = b64(people[next(iter(people))][ENROLLED_EACH]), next(iter(people))
    during = []
    while (await api.ok(JOB, id=job["id"]))["job"]["state"] == "RUNNING" and len(during) < 5:
        during.append((await api.ok(VERIFY, b=probe, c=x["id"]))["verifyLinear"])
    assert during, "the job ended before a search could run during it"
    for answer in during:
        assert answer["model"] == models[FROM] and answer == before[name]
    # A face enrolled while the job runs (by the old model) is carried over too; Y gets the same one.
    for collection in (x["id"], y["id"]):
        latecomer = (await api.ok(ENROL, n="Latecomer", c=collection))["createPerson"]["id"]
        await api.enrol(latecomer, devdata.DEEPFACE / "img1.jpg")

    result = await finished(api, job["id"])
    assert result["state"] == "SUCCEEDED", result
    total = PERSONS * ENROLLED_EACH + 1
    assert result == {
        "state": "SUCCEEDED",
        "total": total,
        "done": total,
        "skippedCount": 0,
        "skipped": [],
        "progress": 1.0,
        "error": None,
    }
    assert (await api.ok("query($id: ID!) { collection(id: $id) { model } }", id=x["id"]))["collection"] == {
        "model": models[TO]
    }
    moved, fresh = await answers(api, x["id"], people), await answers(api, y["id"], people)
    gaps = []
    for person in people:
        a, b = moved[person], fresh[person]
        assert a["model"] == b["model"] == models[TO]
        assert a["searched"] == b["searched"] == total
        assert (a["match"], a["threshold"]) == (b["match"], b["threshold"])
        assert [c["person"]["name"] for c in a["candidates"][:1]] == [c["person"]["name"] for c in b["candidates"][:1]]
        gaps.append(abs(a["candidates"][0]["distance"] - b["candidates"][0]["distance"]))
    print(f"re-embedded vs fresh, best distance: max gap {max(gaps):.3f}, mean {sum(gaps) / len(gaps):.3f}")
    assert max(gaps) <= DISTANCE_TOLERANCE


async def test_a_face_without_a_crop_is_reported_and_left_behind(api: Api):
    collection = (await api.ok(CREATE, i={"name": "crops", "model": FROM}))["createCollection"]["id"]
    person = (await api.ok(ENROL, n="Ada", c=collection))["createPerson"]["id"]
    kept = (await api.enrol(person, devdata.DEEPFACE / "img1.jpg"))["id"]
    embedding = await api.ok("query($id: ID!) { faceEmbedding(faceId: $id) { vector model } }", id=kept)
    restored = await api.ok(
        """mutation($p: ID!, $v: [Float!]!, $m: String!) {
          restoreFace(input: {id: "5f1d0000-0000-4000-8000-00000000c0de", personId: $p, model: $m, embedding: $v,
                              box: {x: 0, y: 0, width: 10, height: 10}, detector: "mtcnn", imageSha256: "%s",
                              createdAt: "2026-01-01T00:00:00Z"}) { id }
        }"""
        % ("1" * 64),
        p=person,
        v=embedding["faceEmbedding"]["vector"],
        m=embedding["faceEmbedding"]["model"],
    )
    cropless = restored["restoreFace"]["id"]
    job = (await api.ok(REEMBED, id=collection, m=TO))["reembedCollection"]
    result = await finished(api, job["id"])
    assert result["state"] == "SUCCEEDED" and (result["done"], result["skippedCount"]) == (1, 1)
    assert result["skipped"] == [
        {"faceId": cropless, "reason": "no stored crop (STORE_FACE_CROPS=false when it was enrolled)"}
    ]
    # The crop-less face keeps its old model; the collection's searches no longer compare it.
    face = (await api.ok("query($id: ID!) { face(id: $id) { model } }", id=cropless))["face"]
    assert (
        face["model"]
        != (await api.ok("query($id: ID!) { collection(id: $id) { model } }", id=collection))["collection"]["model"]
    )
    found = (await api.ok(VERIFY, b=b64(devdata.DEEPFACE / "img1.jpg"), c=collection))["verifyLinear"]
    assert found["searched"] == 1


async def test_reembed_refuses_an_unloaded_model_and_a_foreign_collection(api: Api):
    collection = (await api.ok(CREATE, i={"name": "refusals", "model": FROM}))["createCollection"]["id"]
    assert (await api.error(REEMBED, id=collection, m="sface"))["extensions"]["code"] == "INVALID_INPUT"
    assert (await api.error(REEMBED, id=collection, m=FROM))["extensions"]["code"] == "INVALID_INPUT"  # already
    other = (await api.ok(CREATE, i={"name": "someone else's"}))["createCollection"]["id"]
    bound = api.as_key(await api.new_key("ADMIN", name="bound", collections=[other]))
    assert (await bound.error(REEMBED, id=collection, m=TO))["extensions"]["code"] == "NOT_FOUND"


# --- a real server: killed in the middle of a job, started again, it finishes the job -----------------------

CRASH_PERSONS = 15  # 60 faces: enough for the job to be seen part-way


def _enrol_http(server: Server, collection: str, people: dict[str, list[Path]]) -> None:
    for name, photos in people.items():
        person = server.graphql(ENROL, n=name, c=collection)["data"]["createPerson"]["id"]
        for photo in photos[:ENROLLED_EACH]:
            face = server.graphql(
                "mutation($p: ID!, $i: String!) { createFace(personId: $p, image: {base64: $i}) { id } }",
                p=person,
                i=base64.b64encode(photo.read_bytes()).decode("ascii"),
            )
            assert "errors" not in face, face


def _job(server: Server, job_id: str) -> dict[str, Any]:
    return server.graphql(JOB, id=job_id)["data"]["job"]


async def _progress(server: Server, job_id: str, key: str) -> list[dict[str, Any]]:
    """Every message jobProgress sends until it completes."""
    client = await LiveClient.open(server.ws_url, Authorization=f"Bearer {key}")
    try:
        op = await client.start(
            "subscription($id: ID!) { jobProgress(id: $id) { state done total etaSeconds } }", id=job_id
        )
        messages = []
        while True:
            message = await client.next(op, wait_s=JOB_TIMEOUT_S)
            messages.append(message)
            if message["type"] != "next":
                return messages
    finally:
        await client.socket.close()


def test_a_job_killed_mid_way_resumes_when_the_server_starts_again(tmp_path: Path):
    people = dict(list(lfw_people().items())[:CRASH_PERSONS])
    env = {"EMBEDDER": FROM, "EMBEDDERS": TO, "ADMIN_API_KEY": ADMIN_KEY}
    with running_server(tmp_path, **env) as server:
        collection = server.graphql(CREATE, i={"name": "crash"})["data"]["createCollection"]["id"]
        _enrol_http(server, collection, people)
        job_id = server.graphql(REEMBED, id=collection, m=TO)["data"]["reembedCollection"]["id"]
        deadline = time.monotonic() + JOB_TIMEOUT_S
        while (seen := _job(server, job_id))["done"] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert seen["state"] == "RUNNING" and 0 < seen["done"] < CRASH_PERSONS * ENROLLED_EACH, seen
        assert server.process is not None
        server.process.kill()  # no graceful stop: as a crash or an OOM kill would
        server.process.wait()
        server.process = None
        logged = server.log_path.stat().st_size
        server.start()  # the same data folder
        messages = asyncio.run(_progress(server, job_id, ADMIN_KEY))
        assert messages[-1]["type"] == "complete", messages[-1]
        last = messages[-2]["payload"]["data"]["jobProgress"]
        assert last["state"] == "SUCCEEDED" and last["done"] == last["total"] == CRASH_PERSONS * ENROLLED_EACH
        assert last["etaSeconds"] is None
        with server.log_path.open("rb") as log:
            log.seek(logged)
            assert f"resuming job {job_id}".encode() in log.read()  # finished by the second start, not the first
        # A key of another collection cannot follow it.
        other = server.graphql(CREATE, i={"name": "other"})["data"]["createCollection"]["id"]
        secret = server.graphql(
            'mutation($c: [ID!]) { createApiKey(name: "o", scopes: [ADMIN], collections: $c) { secret } }', c=[other]
        )["data"]["createApiKey"]["secret"]
        refused = asyncio.run(_progress(server, job_id, secret))
        assert refused[0]["type"] == "error" or refused[0]["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        model = server.graphql("query($id: ID!) { collection(id: $id) { model } }", id=collection)["data"]
        loaded = {m["embedder"]: m["name"] for m in server.graphql("{ models { name embedder } }")["data"]["models"]}
        assert model["collection"]["model"] == loaded[TO]

        # The command line: a collection made with one model, moved to the other, followed to the end.
        made = faceid(server, "collections", "create", "by hand", "--model", FROM)
        assert made.returncode == 0, made.stderr
        by_hand = made.stdout.strip()
        enrolled = server.graphql(ENROL, n="Ada", c=by_hand)["data"]["createPerson"]["id"]
        assert "errors" not in server.graphql(
            "mutation($p: ID!, $i: String!) { createFace(personId: $p, image: {base64: $i}) { id } }",
            p=enrolled,
            i=base64.b64encode((devdata.DEEPFACE / "img1.jpg").read_bytes()).decode("ascii"),
        )
        moved = faceid(server, "collections", "reembed", by_hand, TO)
        assert moved.returncode == 0, moved.stderr
        assert f"collection now searched with {loaded[TO]}: 1 faces; 0 left behind" in moved.stdout
        unknown = faceid(server, "collections", "reembed", by_hand, "no-such-model")
        assert unknown.returncode != 0 and "INVALID_INPUT" in unknown.stderr + unknown.stdout


def test_a_job_whose_model_is_no_longer_loaded_fails_and_leaves_the_collection_as_it_was(tmp_path: Path):
    people = dict(list(lfw_people().items())[:CRASH_PERSONS])
    with running_server(tmp_path, EMBEDDER=FROM, EMBEDDERS=TO, ADMIN_API_KEY=ADMIN_KEY) as server:
        collection = server.graphql(CREATE, i={"name": "dropped"})["data"]["createCollection"]["id"]
        _enrol_http(server, collection, people)
        before = server.graphql("query($id: ID!) { collection(id: $id) { model } }", id=collection)["data"]
        job_id = server.graphql(REEMBED, id=collection, m=TO)["data"]["reembedCollection"]["id"]
        assert server.process is not None
        server.process.kill()
        server.process.wait()
        server.process = None
        server.env["EMBEDDERS"] = ""  # started again without the job's model
        server.start()
        job = _job(server, job_id)  # killed a moment after it began: 60 faces take seconds
        assert job["state"] == "FAILED" and "is not loaded (EMBEDDERS)" in job["error"], job
        after = server.graphql("query($id: ID!) { collection(id: $id) { model } }", id=collection)["data"]
        assert after == before
        name, photos = next(iter(people.items()))
        probe = base64.b64encode(photos[ENROLLED_EACH].read_bytes()).decode("ascii")
        found = server.graphql(VERIFY, b=probe, c=collection)["data"]["verifyLinear"]
        assert found["searched"] == CRASH_PERSONS * ENROLLED_EACH and found["candidates"][0]["person"]["name"] == name


def test_a_replica_follows_the_switch_of_another(tmp_path: Path, postgres: LocalPostgres):
    """Two replicas on PostgreSQL, each with its in-memory search: A runs the job, and B answers with the new
    model once A has switched the collection (B's follower moves the faces from one model's matrix to the other)."""
    people = dict(list(lfw_people().items())[:CRASH_PERSONS])
    env = {"EMBEDDER": FROM, "EMBEDDERS": TO, "ADMIN_API_KEY": ADMIN_KEY, "DATABASE_URL": migrated_database(postgres)}
    with running_server(tmp_path / "a", **env) as a, running_server(tmp_path / "b", **env) as b:
        collection = a.graphql(CREATE, i={"name": "replicated"})["data"]["createCollection"]["id"]
        _enrol_http(a, collection, people)
        name, photos = next(iter(people.items()))
        probe = base64.b64encode(photos[ENROLLED_EACH].read_bytes()).decode("ascii")
        before = b.graphql(VERIFY, b=probe, c=collection)["data"]["verifyLinear"]
        job_id = a.graphql(REEMBED, id=collection, m=TO)["data"]["reembedCollection"]["id"]
        deadline = time.monotonic() + JOB_TIMEOUT_S
        while (job := _job(b, job_id))["state"] == "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert job["state"] == "SUCCEEDED", job
        time.sleep(1.0)  # B's follower applies A's commit within a second (tests/test_replicas.py)
        after = b.graphql(VERIFY, b=probe, c=collection)["data"]["verifyLinear"]
        new_model = b.graphql("query($id: ID!) { collection(id: $id) { model } }", id=collection)["data"]
        assert after["model"] == new_model["collection"]["model"] != before["model"]
        assert after["searched"] == before["searched"] == CRASH_PERSONS * ENROLLED_EACH
        assert after["candidates"][0]["person"]["name"] == before["candidates"][0]["person"]["name"] == name
        health = httpx.get(f"{b.url}/healthz").json()
        assert health["faces"] == CRASH_PERSONS * ENROLLED_EACH  # in the new model's matrix only, not in both
