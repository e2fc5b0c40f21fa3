"""Every bad input gets its error code, a clean message, and leaves the database as it was."""

from __future__ import annotations

import base64
import io
import uuid

import numpy as np
import pytest
from PIL import Image

from models import Face as FaceRow
from tests.helpers import ANGELINA, b64

CREATE_FACE = "mutation($p: ID!, $b: String!) { createFace(personId: $p, image: {base64: $b}) { id } }"


def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
async def person(api) -> str:
    person_id = await api.create_person("Bad input target")
    await api.enrol(person_id, ANGELINA[0])
    return person_id


def assert_clean(error: dict) -> None:
    """No stack trace or internal path reaches the client."""
    message = error["message"]
    assert "Traceback" not in message and 'File "' not in message and "/work" not in message and ".py" not in message


BAD_BASE64_CASES = {
    "not an image": (base64.b64encode(b"hello, I am not a photo").decode(), "BAD_IMAGE"),
    "pdf": (base64.b64encode(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n").decode(), "BAD_IMAGE"),
    "empty": ("", "BAD_IMAGE"),
    "truncated jpeg": (base64.b64encode(ANGELINA[0].read_bytes()[:5000]).decode(), "BAD_IMAGE"),
    "bad base64": ("@@@ not base64 @@@", "INVALID_INPUT"),
    "bad data url": ("data:text/html;base64,PGh0bWw+", "INVALID_INPUT"),
    "pixel bomb": (base64.b64encode(png_bytes(Image.new("L", (8000, 6000)))).decode(), "IMAGE_TOO_LARGE"),
    "no face": (
        base64.b64encode(png_bytes(Image.fromarray(np.tile(np.arange(256, dtype=np.uint8), (256, 1))))).decode(),
        "NO_FACE",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_BASE64_CASES))
async def test_bad_image_by_base64(api, person, case):
    data, code = BAD_BASE64_CASES[case]
    before = await api.counts()
    error = await api.error(CREATE_FACE, p=person, b=data)
    assert error["extensions"]["code"] == code, error
    assert_clean(error)
    assert await api.counts() == before


async def test_bad_probe_for_verification(api, person):
    for query in (
        "query($b: String!) { verifyLinear(image: {base64: $b}) { match } }",
        "query($b: String!, $p: ID!) { verifyPerson(personId: $p, image: {base64: $b}) { match } }",
    ):
        error = await api.error(query, b=BAD_BASE64_CASES["truncated jpeg"][0], p=person)
        assert error["extensions"]["code"] == "BAD_IMAGE"


async def test_both_or_neither_image_source(api, person):
    """ImageInput is @oneOf: GraphQL refuses neither or both before anything runs."""
    before = await api.counts()
    neither = await api.error("mutation($p: ID!) { createFace(personId: $p, image: {}) { id } }", p=person)
    assert neither["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    both = await api.upload(
        "mutation($p: ID!, $f: Upload!, $b: String!) "
        "{ createFace(personId: $p, image: {upload: $f, base64: $b}) { id } }",
        {"f": ("a.jpg", ANGELINA[0].read_bytes())},
        p=person,
        b="aGVsbG8=",
    )
    assert both["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    by_variables = await api.error(
        "mutation($p: ID!, $i: ImageInput!) { createFace(personId: $p, image: $i) { id } }",
        p=person,
        i={"base64": "aGVsbG8=", "upload": None},
    )
    assert by_variables["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert await api.counts() == before


async def test_upload_over_byte_limit(api, person):
    limit = api.services.settings.max_image_bytes
    before = await api.counts()
    body = await api.upload(
        "mutation($p: ID!, $f: Upload!) { createFace(personId: $p, image: {upload: $f}) { id } }",
        {"f": ("big.jpg", ANGELINA[0].read_bytes() + b"\0" * (limit + 1))},
        p=person,
    )
    assert body["errors"][0]["extensions"]["code"] == "IMAGE_TOO_LARGE"
    assert await api.counts() == before


async def test_request_body_over_limit_is_refused_before_parsing(api, person):
    limit = api.services.settings.max_image_bytes
    huge = "A" * (limit * 2)
    response = await api.http.post(
        "/graphql", json={"query": CREATE_FACE, "variables": {"p": person, "b": huge}}, headers=api.headers
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "IMAGE_TOO_LARGE"


async def test_empty_upload(api, person):
    body = await api.upload(
        "mutation($p: ID!, $f: Upload!) { createFace(personId: $p, image: {upload: $f}) { id } }",
        {"f": ("empty.jpg", b"")},
        p=person,
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_IMAGE"


async def test_face_for_missing_person(api):
    before = await api.counts()
    error = await api.error(CREATE_FACE, p=str(uuid.uuid4()), b=b64(ANGELINA[1]))
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert await api.counts() == before


async def test_malformed_query(api):
    for text in ("{ persons { ", "{ nosuchfield }", 'query { persons(first: "x") { totalCount } }'):
        error = (await api.raw(text))["errors"][0]
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_failure_after_embedding_leaves_nothing(api, person, monkeypatch):
    """A write that fails half-way (here: the database insert) changes neither store."""
    before, gallery_size = await api.counts(), len(api.gallery)

    async def broken_create(*args, **kwargs):
        raise RuntimeError("disk full at /var/lib/secret/path")

    monkeypatch.setattr(FaceRow, "create", broken_create)
    error = await api.error(CREATE_FACE, p=person, b=b64(ANGELINA[1]))
    assert error["extensions"]["code"] == "INTERNAL"
    assert error["message"] == "internal server error"  # the cause stays in the server log
    monkeypatch.undo()
    assert await api.counts() == before
    assert len(api.gallery) == gallery_size
