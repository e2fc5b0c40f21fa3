"""Face enrolment, reads, moves, replacement and deletes through the GraphQL API."""

from __future__ import annotations

import base64
import io
import uuid

import numpy as np
from PIL import Image

from ml.pipeline import choose_face
from tests.helpers import ANGELINA, COUPLE, b64

FACE_FIELDS = "id box { x y width height } detectionScore detector model createdAt cropJpegBase64 person { id name }"


async def test_create_face_by_base64_and_by_upload(api):
    person = await api.create_person("Angelina")
    by_base64 = await api.ok(
        f"mutation($p: ID!, $b: String!) {{ createFace(personId: $p, image: {{base64: $b}}) {{ {FACE_FIELDS} }} }}",
        p=person,
        b="data:image/jpeg;base64," + b64(ANGELINA[0]),
    )
    face = by_base64["createFace"]
    assert face["person"] == {"id": person, "name": "Angelina"}
    assert face["detector"] == "yunet-onet" and face["model"] == api.services.model_id
    assert 0.9 < face["detectionScore"] <= 1.0
    crop = Image.open(io.BytesIO(base64.b64decode(face["cropJpegBase64"])))
    side = api.services.model().spec.input_size
    assert crop.format == "JPEG" and crop.size == (side, side)

    by_upload = await api.upload(
        f"mutation($p: ID!, $f: Upload!) {{ createFace(personId: $p, image: {{upload: $f}}) {{ {FACE_FIELDS} }} }}",
        {"f": ("img2.jpg", ANGELINA[1].read_bytes())},
        p=person,
    )
    assert "errors" not in by_upload, by_upload
    listed = await api.ok(
        "query($p: ID!) { facesByPerson(personId: $p) { id } person(id: $p) { faceCount } }", p=person
    )
    assert [f["id"] for f in listed["facesByPerson"]] == [face["id"], by_upload["data"]["createFace"]["id"]]
    assert listed["person"]["faceCount"] == 2


async def test_box_is_in_original_photo_coordinates(api):
    """Detection runs on a downscaled copy; the box must land on the face in the original."""
    person = await api.create_person("Box check")
    face = await api.enrol(person, ANGELINA[0])
    width, height = Image.open(ANGELINA[0]).size
    box = face["box"]
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    assert box["y"] >= 0 and box["y"] + box["height"] <= height
    # A face fills a good part of this portrait, far more than the 640 px copy's scale would give.
    assert box["width"] > 0.2 * width


async def test_the_subject_is_used_unless_reject_multiple(api):
    person = await api.create_person("Couple")
    face = await api.enrol(person, COUPLE)
    pipeline = api.services.engine.pipeline
    photo = pipeline.decode(COUPLE.read_bytes())
    detections = pipeline.detect_photo(photo)  # in the whole photo's pixels, though decoded reduced
    assert len(detections) >= 2 and photo.reduction == 2.0
    subject = choose_face(detections, False, photo.shape).box
    assert face["box"] == {"x": subject.x, "y": subject.y, "width": subject.width, "height": subject.height}

    before = await api.counts()
    error = await api.error(
        "mutation($p: ID!, $b: String!) { createFace(personId: $p, image: {base64: $b}, rejectMultiple: true) { id } }",
        p=person,
        b=b64(COUPLE),
    )
    assert error["extensions"]["code"] == "TOO_MANY_FACES"
    assert await api.counts() == before


async def test_faces_connection_and_embedding(api):
    person = await api.create_person("Embedding")
    face = await api.enrol(person, ANGELINA[2])
    data = await api.ok(
        "query($id: ID!) { faceEmbedding(faceId: $id) { faceId model dimension vector } face(id: $id) { id } }",
        id=face["id"],
    )
    embedding = data["faceEmbedding"]
    assert embedding["dimension"] == len(embedding["vector"]) == api.services.model().spec.dimension == 128
    assert abs(np.linalg.norm(embedding["vector"]) - 1.0) < 1e-5
    assert data["face"]["id"] == face["id"]

    ids, after = [], None
    while True:
        page = (
            await api.ok(
                "query($a: String) { faces(first: 1, after: $a) "
                "{ edges { node { id } } pageInfo { hasNextPage endCursor } } }",
                a=after,
            )
        )["faces"]
        ids += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert face["id"] in ids and len(ids) == len(set(ids))


async def test_update_face_moves_and_replaces(api):
    first = await api.create_person("Owner A")
    second = await api.create_person("Owner B")
    face = await api.enrol(first, ANGELINA[0])
    moved = await api.ok(
        "mutation($id: ID!, $p: ID!) { updateFace(id: $id, personId: $p) { person { id } box { x } } }",
        id=face["id"],
        p=second,
    )
    assert moved["updateFace"]["person"]["id"] == second
    assert moved["updateFace"]["box"]["x"] == face["box"]["x"]
    assert api.gallery.person_of(face["id"]) == second

    replaced = await api.ok(
        "mutation($id: ID!, $b: String!) { updateFace(id: $id, image: {base64: $b}) { id box { x y width height } } }",
        id=face["id"],
        b=b64(COUPLE),
    )
    assert replaced["updateFace"]["id"] == face["id"]
    assert replaced["updateFace"]["box"] != face["box"]


async def test_delete_face_and_cascade_delete_person(api):
    person = await api.create_person("Cascade")
    faces = [await api.enrol(person, photo) for photo in ANGELINA[:2]]
    gone = await api.ok("mutation($id: ID!) { deleteFace(id: $id) { id deletedFaces } }", id=faces[0]["id"])
    assert gone["deleteFace"] == {"id": faces[0]["id"], "deletedFaces": 1}
    assert faces[0]["id"] not in api.gallery

    deleted = await api.ok("mutation($id: ID!) { deletePerson(id: $id) { deletedFaces } }", id=person)
    assert deleted["deletePerson"]["deletedFaces"] == 1
    assert (await api.ok("query($id: ID!) { face(id: $id) { id } }", id=faces[1]["id"]))["face"] is None
    assert faces[1]["id"] not in api.gallery


async def test_crop_by_url(api):
    person = await api.create_person("Crop by URL")
    face = await api.enrol(person, ANGELINA[1])
    data = await api.ok("query($id: ID!) { face(id: $id) { cropUrl cropJpegBase64 } }", id=face["id"])
    url = data["face"]["cropUrl"]
    assert url == f"http://localhost/faces/{face['id']}/crop.jpg"

    response = await api.http.get(url, headers=api.headers)
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    assert response.content == base64.b64decode(data["face"]["cropJpegBase64"])
    assert "max-age" in response.headers["cache-control"]
    again = await api.http.get(url, headers={**api.headers, "if-none-match": response.headers["etag"]})
    assert again.status_code == 304 and again.content == b""

    reader = await api.new_key("READ")
    assert (await api.http.get(url, headers={"Authorization": f"Bearer {reader}"})).status_code == 403
    assert (await api.http.get(url)).status_code == 401
    missing = await api.http.get(f"/faces/{uuid.uuid4()}/crop.jpg", headers=api.headers)
    assert missing.status_code == 404 and missing.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    malformed = await api.http.get("/faces/not-a-uuid/crop.jpg", headers=api.headers)
    assert malformed.status_code == 400 and malformed.json()["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


PICK = """mutation($p: ID!, $b: String!, $face: BoxInput) {
  createFace(personId: $p, image: {base64: $b}, rejectMultiple: true, face: $face) { id box { x y width height } }
}"""


async def test_a_group_photo_lists_its_faces_and_enrols_the_one_chosen(api):
    """TOO_MANY_FACES names every face's box; sent back as `face`, that face is enrolled, not the subject."""
    person = await api.create_person("Chosen in a group")
    before = await api.counts()
    refused = await api.error(PICK, p=person, b=b64(COUPLE))
    assert refused["extensions"]["code"] == "TOO_MANY_FACES" and await api.counts() == before
    boxes = refused["extensions"]["faces"]
    pipeline = api.services.engine.pipeline
    photo = pipeline.decode(COUPLE.read_bytes())
    detections = pipeline.detect_photo(photo)
    assert len(boxes) == len(detections) >= 2
    assert [b["x"] for b in boxes] == sorted(b["x"] for b in boxes)  # left to right
    subject = choose_face(detections, False, photo.shape).box
    other = next(b for b in boxes if b["x"] != subject.x)

    enrolled = (await api.ok(PICK, p=person, b=b64(COUPLE), face=other))["createFace"]
    assert enrolled["box"] == other
    # A box drawn loosely around the face finds it too; a box on no face is NO_FACE, writing nothing.
    loose = {"x": other["x"] - 10, "y": other["y"] + 10, "width": other["width"] + 10, "height": other["height"]}
    assert (await api.ok(PICK, p=person, b=b64(COUPLE), face=loose))["createFace"]["box"] == other
    counted = await api.counts()
    nowhere = await api.error(PICK, p=person, b=b64(COUPLE), face={"x": 0, "y": 0, "width": 20, "height": 20})
    assert nowhere["extensions"]["code"] == "NO_FACE" and await api.counts() == counted


async def test_a_person_lists_only_their_first_faces_when_asked(api):
    person = await api.create_person("Thumbnail")
    faces = [(await api.enrol(person, photo))["id"] for photo in ANGELINA]
    query = "query($p: ID!, $n: Int) { person(id: $p) { all: faces { id } first: faces(first: $n) { id } } }"
    answer = (await api.ok(query, p=person, n=1))["person"]
    assert [f["id"] for f in answer["all"]] == faces and [f["id"] for f in answer["first"]] == faces[:1]
    assert (await api.error(query, p=person, n=0))["extensions"]["code"] == "INVALID_INPUT"
