"""Property-based tests: whatever a client sends ends in data or a typed error, and a failure writes nothing.

Hypothesis generates GraphQL arguments, raw request bodies and damaged image files
(JPEG, PNG and WEBP with flipped header bytes, changed sizes, truncations). The
number of examples is bounded so that `make test` stays quick; FUZZ_EXAMPLES raises it.
"""

from __future__ import annotations

import io
import json
import os
import struct

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image

from settings import Settings
from tests.helpers import ANGELINA, server_settings

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
FUZZ = hypothesis_settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
# Codes a client may meet; INTERNAL is a server bug.
CLIENT_CODES = {
    "BAD_IMAGE",
    "IMAGE_TOO_LARGE",
    "NO_FACE",
    "TOO_MANY_FACES",
    "LOW_QUALITY",
    "NOT_FOUND",
    "INVALID_INPUT",
    "BAD_REQUEST",
    "GRAPHQL_VALIDATION_FAILED",
    "QUERY_TOO_COMPLEX",
}


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """This module's server: rates that fuzzing does not reach."""
    return server_settings(
        tmp_path_factory.mktemp("data"), rate_limit_verify="100000/minute", rate_limit_enrol="100000/minute"
    )


@pytest.fixture(scope="module")
async def person(api) -> str:
    person = await api.create_person("Fuzzed")
    await api.enrol(person, ANGELINA[0])
    return person


def photo_files() -> dict[str, bytes]:
    """One face photo as JPEG, PNG and WEBP, small enough to keep each example quick."""
    image = Image.open(ANGELINA[1]).convert("RGB")
    image.thumbnail((240, 240))
    files = {}
    for kind in ("JPEG", "PNG", "WEBP"):
        buffer = io.BytesIO()
        image.save(buffer, kind)
        files[kind] = buffer.getvalue()
    return files


PHOTOS = photo_files()


@st.composite
def damaged_photos(draw: st.DrawFn) -> bytes:
    data = bytearray(PHOTOS[draw(st.sampled_from(sorted(PHOTOS)))])
    for _ in range(draw(st.integers(0, 6))):  # flipped bytes, mostly in the header
        limit = draw(st.sampled_from([64, 512, len(data)]))
        data[draw(st.integers(0, min(limit, len(data)) - 1))] = draw(st.integers(0, 255))
    if draw(st.booleans()):  # a size field rewritten: PNG's IHDR width/height, or anywhere in a JPEG/WEBP header
        offset = 16 if data[:4] == b"\x89PNG" else draw(st.integers(0, 60))
        data[offset : offset + 8] = struct.pack(">II", draw(st.integers(0, 2**31 - 1)), draw(st.integers(0, 65535)))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


def assert_typed(status: int, body: dict) -> None:
    assert status < 500, body
    for error in body.get("errors") or []:
        assert error["extensions"]["code"] in CLIENT_CODES, error


@FUZZ
@given(photo=damaged_photos())
async def test_damaged_photos_end_in_data_or_a_typed_error(api, person, photo):
    before, gallery = await api.counts(), len(api.gallery)
    body = await api.upload(
        "mutation($p: ID!, $f: Upload!) { createFace(personId: $p, image: {upload: $f}, allowLowQuality: true) "
        "{ id } }",
        {"f": ("photo", photo)},
        p=person,
    )
    assert_typed(200, body)
    if body.get("errors"):
        assert await api.counts() == before and len(api.gallery) == gallery
    else:
        await api.ok("mutation($id: ID!) { deleteFace(id: $id) { id } }", id=body["data"]["createFace"]["id"])


texts = st.text(max_size=300) | st.sampled_from(
    ["", " ", "00000000-0000-0000-0000-000000000000", "data:image/x;base64,"]
)
numbers = st.none() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | texts
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats(allow_nan=False) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)

OPERATIONS = {
    "createPerson": ("mutation($v: PersonInput!) { createPerson(input: $v) { id } }", True),
    "updatePerson": ("mutation($id: ID!, $v: PersonPatch!) { updatePerson(id: $id, input: $v) { id } }", True),
    "deleteFace": ("mutation($id: ID!) { deleteFace(id: $id) { id } }", True),
    "createFace": ("mutation($id: ID!, $v: ImageInput!) { createFace(personId: $id, image: $v) { id } }", True),
    "persons": ("query($n: Int!, $v: String) { persons(first: $n, after: $v) { totalCount } }", False),
    "verifyLinear": (
        "query($v: ImageInput!, $n: Float, $l: Int!) { verifyLinear(image: $v, threshold: $n, limit: $l) { match } }",
        False,
    ),
    "person": ("query($id: ID!) { person(id: $id) { name } }", False),
    "auditLog": ("query($n: Int!, $v: String) { auditLog(first: $n, operation: $v) { totalCount } }", False),
}


@st.composite
def operations(draw: st.DrawFn) -> tuple[str, bool, dict]:
    query, writes = OPERATIONS[draw(st.sampled_from(sorted(OPERATIONS)))]
    variables = {
        "id": draw(texts | json_values),
        "n": draw(numbers),
        "l": draw(numbers),
        "v": draw(
            json_values
            | st.fixed_dictionaries({"name": texts}, optional={"externalId": texts, "metadata": json_values})
            | st.fixed_dictionaries({}, optional={"base64": texts, "upload": texts})
        ),
    }
    return query, writes, {name: value for name, value in variables.items() if f"${name}" in query}


@FUZZ
@given(operation=operations())
async def test_fuzzed_arguments_end_in_data_or_a_typed_error(api, person, operation):
    query, writes, variables = operation
    before = await api.counts()
    response = await api.http.post(
        "/graphql", content=json.dumps({"query": query, "variables": variables}), headers=api.headers
    )
    body = response.json()
    assert_typed(response.status_code, body)
    if writes and body.get("errors"):
        assert await api.counts() == before


@FUZZ
@given(body=json_values.map(json.dumps).map(str.encode) | st.binary(max_size=200))
async def test_fuzzed_request_bodies_are_4xx_with_a_code(api, body):
    response = await api.http.post(
        "/graphql", content=body, headers={**api.headers, "content-type": "application/json"}
    )
    assert response.status_code < 500
    if response.status_code >= 400:
        assert response.json()["errors"][0]["extensions"]["code"] in CLIENT_CODES
