"""Every face of a group photo (detectFaces, embedFaces, recognizeFaces) and search by embedding."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

import devdata
from tests.helpers import ANGELINA, COUPLE, b64, extensions_of

SELFIE = devdata.DEEPFACE / "selfie-many-people.jpg"
DETECT = """query($b: String!) { detectFaces(image: {base64: $b}) {
    box { x y width height } score landmarks { x y } quality { interEyePx sharpness } } }"""
RECOGNIZE = """query($b: String!) { recognizeFaces(image: {base64: $b}, limit: 3) {
    match threshold probe { box { x width } } best { distance person { name } } candidates { distance } } }"""
SEARCH = """query($v: [Float!]!, $m: String!) { searchByEmbedding(vector: $v, model: $m) {
    match probe { score } best { distance person { name } } searched } }"""


@pytest.fixture(scope="module")
async def angelina(api) -> str:
    person = await api.create_person("Angelina")
    for photo in ANGELINA:
        await api.enrol(person, photo)
    return person


async def test_detect_faces_finds_every_face_left_to_right(api):
    couple = (await api.ok(DETECT, b=b64(COUPLE)))["detectFaces"]
    assert len(couple) == 2
    assert couple[0]["box"]["x"] < couple[1]["box"]["x"]
    for face in couple:
        assert len(face["landmarks"]) == 5 and face["score"] > 0.9 and face["quality"]["interEyePx"] > 10
        box = face["box"]
        assert all(box["x"] <= point["x"] <= box["x"] + box["width"] for point in face["landmarks"])
    selfie = (await api.ok(DETECT, b=b64(SELFIE)))["detectFaces"]
    assert len(selfie) == 5
    assert await api.counts() == (0, 0)  # detection stores nothing


async def test_a_photo_without_faces_is_an_empty_list(api):
    buffer = io.BytesIO()
    Image.fromarray(np.tile(np.arange(256, dtype=np.uint8), (256, 1))).save(buffer, "PNG")
    photo = base64.b64encode(buffer.getvalue()).decode()
    assert (await api.ok(DETECT, b=photo))["detectFaces"] == []
    assert (await api.ok(RECOGNIZE, b=photo))["recognizeFaces"] == []


async def test_recognize_faces_answers_for_each_face_in_one_model_call(api, angelina):
    before = api.services.engine.stats.snapshot().get("embed", {"calls": 0, "items": 0})
    answers = (await api.ok(RECOGNIZE, b=b64(SELFIE)))["recognizeFaces"]
    after = api.services.engine.stats.snapshot()["embed"]
    assert after["calls"] - before.get("calls", 0) == 1 and after["items"] - before["items"] == 5
    assert len(answers) == 5
    assert [answer["match"] for answer in answers] == [False, True, False, False, False]
    assert answers[1]["best"]["person"]["name"] == "Angelina"
    xs = [answer["probe"]["box"]["x"] for answer in answers]
    assert xs == sorted(xs)

    couple = (await api.ok(RECOGNIZE, b=b64(COUPLE)))["recognizeFaces"]
    assert [answer["match"] for answer in couple] == [True, False]


async def test_recognize_faces_hides_strangers_from_verify_keys(api, angelina):
    """A VERIFY key sees only candidates within MAX_THRESHOLD; the admin (BIOMETRICS) sees the farther ones too."""
    ceiling = api.services.model().thresholds.maximum
    seen_by_admin = (await api.ok(RECOGNIZE, b=b64(SELFIE)))["recognizeFaces"]
    gate = api.as_key(await api.new_key("VERIFY"))
    seen_by_verify = (await gate.ok(RECOGNIZE, b=b64(SELFIE)))["recognizeFaces"]
    assert any(c["distance"] > ceiling for answer in seen_by_admin for c in answer["candidates"])
    for admin, verify in zip(seen_by_admin, seen_by_verify, strict=True):
        assert verify["match"] == admin["match"]
        within = [c["distance"] for c in admin["candidates"] if c["distance"] <= ceiling]
        # The same candidates, their distances shown to a VERIFY key rounded to 0.01.
        assert [c["distance"] for c in verify["candidates"]] == pytest.approx(within, abs=0.005)


async def test_search_by_embedding(api, angelina):
    face = (await api.ok("query($p: ID!) { facesByPerson(personId: $p) { id } }", p=angelina))["facesByPerson"][0]
    stored = await api.ok("query($id: ID!) { faceEmbedding(faceId: $id) { vector model } }", id=face["id"])
    vector, model = stored["faceEmbedding"]["vector"], stored["faceEmbedding"]["model"]

    found = (await api.ok(SEARCH, v=[2 * value for value in vector], m=model))["searchByEmbedding"]
    assert found["match"] is True and found["probe"] is None
    assert found["best"]["person"]["name"] == "Angelina" and found["best"]["distance"] < 1e-3
    assert found["searched"] == len(api.gallery)

    for bad_vector, bad_model in (
        (vector, "facenet-vggface2-20180408-align5pt"),
        (vector[:-1], model),
        ([0.0] * len(vector), model),
    ):
        error = await api.error(SEARCH, v=bad_vector, m=bad_model)
        assert error["extensions"]["code"] == "INVALID_INPUT"


EMBED = """query($b: String!) { embedFaces(image: {base64: $b}) { model vector face { box { x } score } } }"""


async def test_embed_faces_gives_what_enrolment_stored_and_search_takes_back(api, angelina):
    """embedFaces is enrolment's embedding without the enrolment: the same vector for the same photo."""
    faces = (await api.ok(EMBED, b=b64(ANGELINA[0])))["embedFaces"]
    assert len(faces) == 1 and faces[0]["model"] == api.services.model_id
    vector = np.asarray(faces[0]["vector"])
    assert vector.shape == (api.services.model().spec.dimension,) and abs(np.linalg.norm(vector) - 1) < 1e-5
    enrolled = await api.ok("query($p: ID!) { facesByPerson(personId: $p) { embedding } }", p=angelina)
    assert min(np.abs(vector - np.asarray(face["embedding"])).max() for face in enrolled["facesByPerson"]) < 1e-5
    found = (await api.ok(SEARCH, v=faces[0]["vector"], m=faces[0]["model"]))["searchByEmbedding"]
    assert found["best"]["person"]["name"] == "Angelina" and found["best"]["distance"] < 1e-3

    group = (await api.ok(EMBED, b=b64(SELFIE)))["embedFaces"]
    xs = [face["face"]["box"]["x"] for face in group]
    assert len(group) > 1 and xs == sorted(xs)  # every face, left to right
    audited = await api.ok('{ auditLog(operation: "embedFaces", last: 2) { edges { node { result detail } } } }')
    details = [edge["node"]["detail"] for edge in audited["auditLog"]["edges"]]
    assert details == ["1 faces embedded", f"{len(group)} faces embedded"]  # biometric data handed out: recorded


async def test_embed_faces_needs_biometrics(api):
    verifier = api.as_key(await api.new_key("READ", "VERIFY"))
    error = await verifier.error(EMBED, b=b64(ANGELINA[0]))
    assert extensions_of(error) == {"code": "FORBIDDEN", "scope": "BIOMETRICS"}
