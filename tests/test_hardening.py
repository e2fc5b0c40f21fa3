"""Hardening, round two (issue 20): each finding as a request an attacker or a careless client would send.

Through the app over HTTP (httpx's ASGI transport); what needs a real socket (slow
headers, WebSockets, the loop staying free while an attack is answered) is in
tests/test_hardening_server.py and tests/test_live.py.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import math

import httpx
import numpy as np
import pytest
from graphql import get_introspection_query
from PIL import Image

import ml.image
from app import ClippedValues, create_app
from auth.access import shown_distance
from auth.audit import TEXT_MAX
from errors import ErrorCode
from models import AuditEntry
from models import Person as PersonRow
from settings import Settings
from tests.helpers import ADMIN_KEY, ANGELINA, b64, extensions_of, scan_bomb, server_settings
from tests.server import ROOT

PERSONS_WITH_CROPS = "{ persons(first: $n) { edges { node { faces { cropJpegBase64 } } } } }"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return server_settings(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
async def person(api) -> str:
    person = await api.create_person("Angelina")
    await api.enrol(person, ANGELINA[0])
    return person


async def post(api, body: object, **headers: str):
    """A raw JSON POST: json.dumps escapes lone surrogates (\\ud800) as JSON allows, and keeps NaN."""
    return await api.http.post(
        "/graphql", content=json.dumps(body), headers={**api.headers, "content-type": "application/json", **headers}
    )


def code_of(body: dict) -> str:
    return body["errors"][0]["extensions"]["code"]


def fragment_chain(levels: int) -> str:
    """Each fragment spreads the one before twice: the document doubles its fields per level."""
    chain = " ".join(f"fragment F{i} on Person {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels + 1))
    return f"{{ persons(first: 1) {{ edges {{ node {{ ...F{levels} }} }} }} }} fragment F0 on Person {{ name }} {chain}"


# 1, 2, 3: the cost rule is linear, introspection is costed, defaults count like literals.


@pytest.mark.parametrize("levels", [20, 40, 100])
async def test_a_fragment_bomb_is_refused_as_too_complex(api, person, levels):
    for key in (ADMIN_KEY, None):  # anonymous too: this one needed no key
        body = (await post(api.as_key(key), {"query": fragment_chain(levels)})).json()
        assert code_of(body) == "QUERY_TOO_COMPLEX", body


async def test_a_short_fragment_chain_still_runs(api, person):
    body = await api.ok(fragment_chain(3))
    assert body["persons"]["edges"][0]["node"]["name"] == "Angelina"


async def test_introspection_is_costed_like_any_field(api):
    full = get_introspection_query(descriptions=True)
    for key in (ADMIN_KEY, None):  # GraphiQL and codegen introspect once: that works, with or without a key
        response = await post(api.as_key(key), {"query": full})
        assert response.status_code == 200 and "errors" not in response.json(), response.text
    fragment = full.split("fragment FullType")[1]
    aliases = " ".join(f"a{i}: __schema {{ types {{ ...FullType }} }}" for i in range(25))
    body = (await post(api, {"query": f"{{ {aliases} }} fragment FullType{fragment}"})).json()
    assert code_of(body) == "QUERY_TOO_COMPLEX" and "introspection" in body["errors"][0]["message"]
    # Without a key the budget is one introspection's: three aliased ones are refused, with a key they run.
    three = " ".join(f"a{i}: __schema {{ types {{ ...FullType }} }}" for i in range(3))
    query = {"query": f"{{ {three} }} fragment FullType{fragment}"}
    assert code_of((await post(api.as_key(None), query)).json()) == "QUERY_TOO_COMPLEX"
    assert "errors" not in (await post(api, query)).json()


async def test_variable_defaults_are_costed_like_literals(api, person):
    literal = await post(api, {"query": "{ persons(first: 500) { edges { node { faces { cropJpegBase64 } } } } }"})
    defaulted = await post(api, {"query": f"query($n: Int = 500) {PERSONS_WITH_CROPS}"})
    assert code_of(literal.json()) == code_of(defaulted.json()) == "QUERY_TOO_COMPLEX"
    before = api.services.engine.stats.snapshot().get("detect", {}).get("items", 0)
    aliases = " ".join(f"r{i}: recognizeFaces(image: $i) {{ match }}" for i in range(10))
    query = f'query($i: ImageInput = {{base64: "{b64(ANGELINA[1])}"}}) {{ {aliases} }}'
    body = (await post(api, {"query": query})).json()
    assert code_of(body) == "QUERY_TOO_COMPLEX" and "one request per photo" in body["errors"][0]["message"]
    assert api.services.engine.stats.snapshot().get("detect", {}).get("items", 0) == before  # no model ran


# 2: variables are bounded before coercion.


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"v": [0.5] * 1_000_000}, "QUERY_TOO_COMPLEX"),  # a million floats: seconds of coercion before
        ({"v": [[0.5] * 1000] * 100}, "QUERY_TOO_COMPLEX"),  # 100,000 values in short lists
    ],
    ids=["one-long-list", "many-values"],
)
async def test_list_variables_are_bounded_before_coercion(api, variables, code):
    query = 'query($v: [Float!]!) { searchByEmbedding(vector: $v, model: "x") { match } }'
    response = await post(api, {"query": query, "variables": variables})
    assert code_of(response.json()) == code


async def test_a_request_without_a_key_is_small_or_refused_before_it_is_read(api):
    anonymous = api.as_key(None)
    big = {"query": "query($v: [Float!]!) { model { name } }", "variables": {"v": [0.5] * 1_000_000}}
    response = await post(anonymous, big)
    assert response.status_code == 401 and code_of(response.json()) == "UNAUTHENTICATED"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "without an API key" in response.json()["errors"][0]["message"]


# 5: embeddings are biometric end to end.


async def test_search_by_embedding_needs_biometrics(api, person):
    vector = (await api.ok("{ faces { edges { node { embedding } } } }"))["faces"]["edges"][0]["node"]["embedding"]
    model = (await api.ok("{ model { name } }"))["model"]["name"]
    query = "query($v: [Float!]!, $m: String!) { searchByEmbedding(vector: $v, model: $m) { best { distance } } }"
    verifier = api.as_key(await api.new_key("VERIFY"))
    error = await verifier.error(query, v=vector, m=model)
    assert extensions_of(error) == {"code": "FORBIDDEN", "scope": "BIOMETRICS"}
    biometric = api.as_key(await api.new_key("BIOMETRICS"))
    assert (await biometric.ok(query, v=vector, m=model))["searchByEmbedding"]["best"]["distance"] < 1e-3


async def test_distances_are_coarse_without_biometrics(api, person):
    query = """query($b: String!, $t: Float) { verifyLinear(image: {base64: $b}, threshold: $t) {
                 match threshold best { distance similarity falseMatchRate } } }"""
    verifier = api.as_key(await api.new_key("VERIFY"))
    exact = (await api.ok(query, b=b64(ANGELINA[1]), t=0.8765))["verifyLinear"]
    coarse = (await verifier.ok(query, b=b64(ANGELINA[1]), t=0.8765))["verifyLinear"]
    assert exact["best"]["distance"] != round(exact["best"]["distance"], 2)  # exact, for BIOMETRICS (admin)
    assert coarse["best"]["distance"] == round(exact["best"]["distance"], 2)
    assert coarse["best"]["similarity"] == pytest.approx(1 - coarse["best"]["distance"] ** 2 / 4)
    # A threshold sweep would measure the distance bit by bit: a chosen cut-off is on the same grid.
    assert exact["threshold"] == 0.8765 and coarse["threshold"] == 0.88
    assert coarse["match"] == exact["match"]


def test_a_coarse_distance_never_passes_the_ceiling():
    """A candidate just inside MAX_THRESHOLD, shown on the grid, would read as beyond it: the grid point below."""
    assert shown_distance(None, 1.176) == 1.18
    assert shown_distance(None, 1.176, ceiling=1.1774) == 1.17
    assert shown_distance(None, 1.163, ceiling=1.1774) == 1.16


# 6: the audit log is bounded.


async def test_audit_entries_are_bounded_and_anonymous_refusals_summed_up(api):
    long_id = "x" * 60_000
    reader = api.as_key(await api.new_key("READ", name="reader"))
    await reader.raw("mutation($id: ID!) { deletePerson(id: $id) { id } }", id=long_id)
    entry = await AuditEntry.filter(operation="deletePerson").order_by("-created_at").first()
    assert entry is not None and entry.result == "FORBIDDEN"
    assert all(len(target) <= TEXT_MAX for target in entry.targets) and len(entry.detail or "") <= TEXT_MAX

    before = await AuditEntry.filter(key_name="(no key)").count()
    anonymous = api.as_key(None)
    for _ in range(10):
        body = await anonymous.raw("mutation($id: ID!) { deletePerson(id: $id) { id } }", id="y" * 30_000)
        assert code_of(body) == "UNAUTHENTICATED"
    assert await AuditEntry.filter(key_name="(no key)").count() <= before + 1
    log = await api.ok("{ auditLog(last: 20) { edges { node { operation targets detail } } } }")
    assert 2 <= len(log["auditLog"]["edges"]) <= 20  # read back, not refused as too large


# 7: decoder bombs are refused from the header and the bytes.


def flat_image(format_: str) -> bytes:
    """40 megapixels of one colour: about 100 KB as a PNG, a gigabyte of work to decode."""
    out = io.BytesIO()
    options = {"compression": "tiff_adobe_deflate"} if format_ == "TIFF" else {}
    Image.new("L", (8000, 5000), 128).save(out, format_, **options)
    return out.getvalue()


DETECT = "query($b: String!) { detectFaces(image: {base64: $b}) { box { x } } }"


async def test_a_jpeg_of_thousands_of_scans_is_refused(api):
    bomb = scan_bomb(2000)
    assert len(bomb) < 100_000
    error = await api.error(DETECT, b=b64_bytes(bomb))
    assert error["extensions"]["code"] == "IMAGE_TOO_COMPLEX" and "2000 scans" in error["message"]
    out = io.BytesIO()
    Image.open(ANGELINA[0]).save(out, "JPEG", progressive=True)  # a progressive photo: still answered
    assert "errors" not in await api.raw(DETECT, b=b64_bytes(out.getvalue()))


@pytest.mark.parametrize("format_", ["PNG", "WEBP", "TIFF", "GIF"])
async def test_an_image_of_far_more_pixels_than_bytes_is_refused(api, format_):
    bomb = flat_image(format_)
    error = await api.error(DETECT, b=b64_bytes(bomb))
    assert error["extensions"]["code"] == "IMAGE_TOO_LARGE" and "pixels per byte" in error["message"]


def b64_bytes(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def test_a_large_decode_gives_its_memory_back(monkeypatch):
    trimmed = []
    monkeypatch.setattr(ml.image, "_trim_heap", lambda: trimmed.append(True))
    noise = np.random.default_rng(0).integers(0, 255, (1500, 3000, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(noise).save(out, "PNG")
    limits = ml.image.ImageLimits(max_bytes=64 * 1024 * 1024, max_pixels=40_000_000)
    assert ml.image.decode_image(out.getvalue(), limits).shape == (1500, 3000, 3)
    assert trimmed == [True]
    assert ml.image.jpeg_scans(ANGELINA[0].read_bytes()) >= 1


# 9: client mistakes are INVALID_INPUT, never INTERNAL.


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("mutation($i: PersonInput!) { createPerson(input: $i) { id } }", {"i": {"name": "a\ud800b"}}),
        ("mutation($i: PersonInput!) { createPerson(input: $i) { id } }", {"i": {"name": "a", "externalId": "\ud800"}}),
        ("query($s: String) { persons(search: $s) { totalCount } }", {"s": "\udfff"}),
        ("mutation($n: String!) { createApiKey(name: $n, scopes: [READ]) { secret } }", {"n": "key \ud83d"}),
        ("query($s: String) { persons(search: $s) { totalCount } }", {"s": "x" * 201}),
        (
            "mutation($i: PersonInput!) { createPerson(input: $i) { id } }",
            {"i": {"name": "a", "metadata": {"x": math.nan}}},
        ),
        (
            "mutation($i: PersonInput!) { createPerson(input: $i) { id } }",
            {"i": {"name": "a", "metadata": {"x": math.inf}}},
        ),
    ],
    ids=["name", "external-id", "search", "key-name", "long-search", "nan", "infinity"],
)
async def test_client_mistakes_are_invalid_input(api, query, variables):
    before = await PersonRow.all().count()
    response = await post(api, {"query": query, "variables": variables})
    assert code_of(response.json()) == "INVALID_INPUT", response.text
    assert await PersonRow.all().count() == before


async def test_a_lone_surrogate_in_the_query_text_is_a_syntax_error(api):
    response = await post(api, {"query": '{ persons(search: "\ud800") { totalCount } }'})
    assert code_of(response.json()) == "GRAPHQL_VALIDATION_FAILED" and "U+D800" in response.text


async def test_listings_stay_json(api, person):
    listing = await api.http.post(
        "/graphql", json={"query": "{ persons { edges { node { metadata } } } }"}, headers=api.headers
    )
    assert "NaN" not in listing.text and "Infinity" not in listing.text
    json.loads(listing.text, parse_constant=lambda name: pytest.fail(f"{name} in a listing"))


# 11: every HTTP answer is JSON with a code.


@pytest.mark.parametrize(
    ("method", "path", "headers", "status", "code"),
    [
        ("GET", "/no/such/page", {}, 404, "NOT_FOUND"),
        ("PUT", "/graphql", {}, 405, "BAD_REQUEST"),
        ("POST", "/healthz", {}, 405, "BAD_REQUEST"),
        ("GET", "/healthz", {"host": "evil.example"}, 400, "BAD_REQUEST"),
        ("POST", "/graphql", {"authorization": "Bearer fid_nope"}, 401, "UNAUTHENTICATED"),
        ("GET", "/metrics", {"authorization": "Bearer fid_nope"}, 401, "UNAUTHENTICATED"),
    ],
)
async def test_every_http_error_is_json_with_a_code(api, method, path, headers, status, code):
    response = await api.http.request(method, path, headers=headers, json={"query": "{ __typename }"})
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert code_of(response.json()) == code
    if status == 401:
        assert response.headers["www-authenticate"] == 'Bearer realm="faceid"'


async def test_a_server_still_starting_says_when_to_retry(tmp_path):
    app = create_app(server_settings(tmp_path))  # no lifespan: the models are not loaded
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost") as http:
        response = await http.get("/healthz")
    assert response.status_code == 503 and response.headers["retry-after"] == "1"


# 12: GraphQL over HTTP's media types.


async def test_request_errors_follow_the_accepted_media_type(api):
    invalid = {"query": "{ nosuchfield }"}
    legacy = await post(api, invalid, accept="application/json")
    assert legacy.status_code == 200 and code_of(legacy.json()) == "GRAPHQL_VALIDATION_FAILED"
    modern = await post(api, invalid, accept="application/graphql-response+json")
    assert modern.status_code == 400 and "data" not in modern.json()
    assert code_of(modern.json()) == "GRAPHQL_VALIDATION_FAILED"


# 13: the smaller ones.


async def test_crops_are_not_shared_between_keys_by_caches(api, person):
    face = (await api.ok("{ faces { edges { node { id } } } }"))["faces"]["edges"][0]["node"]["id"]
    response = await api.http.get(f"/faces/{face}/crop.jpg", headers=api.headers)
    assert response.status_code == 200 and "Authorization" in response.headers["vary"]


async def test_a_read_key_asking_for_embeddings_keeps_the_rest(api, person):
    reader = api.as_key(await api.new_key("READ"))
    body = await reader.raw("{ faces { edges { node { id embedding } } } }")
    node = body["data"]["faces"]["edges"][0]["node"]
    assert node["id"] and node["embedding"] is None
    assert code_of(body) == "FORBIDDEN"


async def test_live_errors_carry_an_error_code(api):
    introspected = await api.ok('{ __type(name: "LiveError") { fields { name type { ofType { name } } } } }')
    fields = {field["name"]: field["type"]["ofType"]["name"] for field in introspected["__type"]["fields"]}
    assert fields["code"] == "ErrorCode"


def test_the_readme_lists_every_error_code():
    rows = [line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("| `")]
    missing = [code.value for code in ErrorCode if not any(row.startswith(f"| `{code.value}` |") for row in rows)]
    assert not missing, "the README's error table lacks these"


def test_jpeg_scans_count_start_of_scan_markers():
    assert ml.image.jpeg_scans(scan_bomb(150)) == 150


def test_log_lines_carry_at_most_200_characters_of_a_value():
    record = logging.LogRecord("faceid", logging.ERROR, __file__, 1, "search %s failed", ("x" * 1_000_000,), None)
    assert ClippedValues().filter(record)
    assert len(record.getMessage()) < TEXT_MAX + 20
