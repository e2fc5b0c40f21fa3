"""Abuse limits: cost, photos per request, depth, response size, rates, malformed requests, cross-site posts.

Each limit is shown to hold and to answer with a typed error; this module's server has
low rates and a small response cap so that they are reached quickly.
"""

from __future__ import annotations

import json

import pytest

from bounds import FACES_PER_PERSON_MAX
from models import Face as FaceRow
from settings import Settings
from tests.helpers import ANGELINA, b64, server_settings

VERIFY = "query($b: String!) { verifyLinear(image: {base64: $b}) { match } }"
CREATE_FACE = "mutation($p: ID!, $b: String!) { createFace(personId: $p, image: {base64: $b}) { id } }"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return server_settings(
        tmp_path_factory.mktemp("data"),
        rate_limit_verify="3/minute",
        rate_limit_enrol="2/minute",
        max_response_bytes=64 * 1024,
    )


@pytest.fixture(scope="module")
async def person(api) -> str:
    person = await api.create_person("Angelina")
    await api.enrol(person, ANGELINA[0])
    return person


async def post(api, body: object, **kwargs) -> tuple[int, dict]:
    response = await api.http.post("/graphql", content=json.dumps(body), headers={**api.headers, **kwargs})
    return response.status_code, response.json()


def code_of(body: dict) -> str:
    return body["errors"][0]["extensions"]["code"]


async def test_nested_lists_are_refused_before_any_work(api, person):
    query = "{faces{edges{node{person{faces{person{faces{cropJpegBase64}}}}}}}}"
    status, body = await post(api, {"query": query, "variables": {}}, **{"content-type": "application/json"})
    assert status == 400 and code_of(body) == "QUERY_TOO_COMPLEX" and body.get("data") is None
    assert body["errors"][0]["extensions"]["cost"] > api.services.settings.max_query_cost


async def test_cost_follows_page_sizes_and_fragments(api, person):
    query = """query($n: Int!) { persons(first: $n) { edges { node { ...F } } } }
               fragment F on Person { faces { cropJpegBase64 id } }"""
    assert code_of(await api.raw(query, n=500)) == "QUERY_TOO_COMPLEX"
    assert "errors" not in await api.raw(query, n=10)
    # The standard rules' verdict is kept per document; the cost is judged with each request's variables.
    assert code_of(await api.raw(query, n=500)) == "QUERY_TOO_COMPLEX"
    unknown = "{ persons { edges { node { nope } } } }"
    for _ in range(2):
        assert code_of(await api.raw(unknown)) == "GRAPHQL_VALIDATION_FAILED"


async def test_one_photo_per_operation(api, person):
    aliases = " ".join(f"v{i}: verifyLinear(image: {{base64: $b}}) {{ match }}" for i in range(50))
    body = await api.raw(f"query($b: String!) {{ {aliases} }}", b=b64(ANGELINA[1]))
    assert code_of(body) == "QUERY_TOO_COMPLEX" and "one request per photo" in body["errors"][0]["message"]
    stats = api.services.engine.stats.snapshot()
    assert stats.get("detect", {}).get("items", 0) <= 1  # only the enrolment of the fixture ran the models


async def test_depth_is_bounded(api):
    query = "{ faces { edges { node { person { faces { person { faces { person { faces { id } } } } } } } } } }"
    assert code_of(await api.raw(query)) == "QUERY_TOO_COMPLEX"


async def test_response_size_is_capped(api):
    metadata = {"notes": "x" * 15_000}
    for i in range(6):
        await api.create_person(f"padded {i}", metadata=metadata)
    status, body = await post(
        api, {"query": "{ persons(first: 10) { edges { node { metadata } } } }"}, **{"content-type": "application/json"}
    )
    assert status == 400 and code_of(body) == "QUERY_TOO_COMPLEX"
    assert "response" in body["errors"][0]["message"]


async def test_rates_are_per_key_and_say_when_to_retry(api, person):
    verifier = api.as_key(await api.new_key("VERIFY"))
    for _ in range(3):
        await verifier.ok(VERIFY, b=b64(ANGELINA[1]))
    response = await api.http.post(
        "/graphql", json={"query": VERIFY, "variables": {"b": b64(ANGELINA[1])}}, headers=verifier.headers
    )
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED" and 1 <= error["extensions"]["retryAfter"] <= 60
    assert response.headers["retry-after"] == str(error["extensions"]["retryAfter"])
    # Another key has its own allowance.
    other = api.as_key(await api.new_key("VERIFY"))
    assert "errors" not in await other.raw(VERIFY, b=b64(ANGELINA[1]))

    enroller = api.as_key(await api.new_key("ENROL", "READ"))
    before = await api.counts()
    for photo in ANGELINA[1:]:
        await enroller.ok(CREATE_FACE, p=person, b=b64(photo))
    assert code_of(await enroller.raw(CREATE_FACE, p=person, b=b64(ANGELINA[0]))) == "RATE_LIMITED"
    assert await api.counts() == (before[0], before[1] + 2)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        ("5", "application/json"),
        ('"query"', "application/json"),
        ("null", "application/json"),
        ("[]", "application/json"),
        ('[{"query": "{ model { name } }"}]', "application/json"),  # batching is off
        ("{not json", "application/json"),
        (b"\x80\xff", "application/json"),  # not UTF-8
        ("[" * 100_000, "application/json"),  # nested deeper than the parser goes
        ('{"query": 5}', "application/json"),
        ('{"query": "{ model { name } }", "variables": []}', "application/json"),
        ("{ model { name } }", "application/graphql"),
        ("query={ model { name } }", "application/x-www-form-urlencoded"),
    ],
)
async def test_malformed_bodies_are_4xx_with_a_code(api, content, content_type):
    response = await api.http.post("/graphql", content=content, headers={**api.headers, "content-type": content_type})
    assert 400 <= response.status_code < 500, response.text
    assert code_of(response.json()) in {"BAD_REQUEST", "GRAPHQL_VALIDATION_FAILED"}


@pytest.mark.parametrize(
    ("operations", "mapping"),
    [
        (
            '{"query": "query($f: Upload!) { verifyLinear(image: {upload: $f}) { match } }", "variables": {"f": null}}',
            "[]",
        ),
        (
            '{"query": "query($f: Upload!) { verifyLinear(image: {upload: $f}) { match } }", "variables": {"f": null}}',
            '{"0": "variables.f"}',
        ),
        (
            '{"query": "query($f: Upload!) { verifyLinear(image: {upload: $f}) { match } }", "variables": {"f": null}}',
            '{"0": ["variables.nope.deeper.still"]}',
        ),
        (
            '{"query": "query($f: Upload!) { verifyLinear(image: {upload: $f}) { match } }", "variables": {"f": null}}',
            '{"9": ["variables.f"]}',
        ),
        ("[1, 2]", '{"0": ["0.variables.f"]}'),
        ("7", '{"0": ["variables.f"]}'),
        ("not json", "{}"),
    ],
)
async def test_malformed_multipart_is_4xx_with_a_code(api, operations, mapping):
    response = await api.http.post(
        "/graphql",
        data={"operations": operations, "map": mapping},
        files={"0": ("a.jpg", ANGELINA[0].read_bytes(), "image/jpeg")},
        headers=api.headers,
    )
    assert 400 <= response.status_code < 500, response.text
    assert code_of(response.json()) in {"BAD_REQUEST", "GRAPHQL_VALIDATION_FAILED", "INVALID_INPUT"}


@pytest.mark.parametrize(
    "variables",
    [{}, {"id": None}, {"id": {"an": "object"}}, {"id": [1, 2]}, {"id": 1.5}],
    ids=["missing", "null", "object", "list", "float"],
)
async def test_variable_errors_are_400_not_internal(api, variables):
    status, body = await post(
        api,
        {"query": "query($id: ID!) { person(id: $id) { name } }", "variables": variables},
        **{"content-type": "application/json"},
    )
    assert status == 400 and code_of(body) == "GRAPHQL_VALIDATION_FAILED", body


async def test_wrongly_typed_variables_are_validation_errors(api):
    for query, variables in (
        ("query($n: Int!) { persons(first: $n) { totalCount } }", {"n": "ten"}),
        ("query($n: Int!) { persons(first: $n) { totalCount } }", {"n": 2**40}),
        ("query($t: Float) { model { name } }", {"t": "NaN"}),
        ("mutation($i: PersonInput!) { createPerson(input: $i) { id } }", {"i": {"name": 5}}),
    ):
        status, body = await post(api, {"query": query, "variables": variables}, **{"content-type": "application/json"})
        assert status == 400 and code_of(body) == "GRAPHQL_VALIDATION_FAILED", body


async def test_queries_are_not_run_by_get(api):
    response = await api.http.get("/graphql", params={"query": "{ model { name } }"}, headers=api.headers)
    assert 400 <= response.status_code < 500 and code_of(response.json()) == "BAD_REQUEST"


async def test_cross_site_form_posts_are_refused(api):
    """A page elsewhere can post a form without a preflight; it cannot add the API key header."""
    victim = await api.create_person("victim")
    operations = json.dumps({"query": f'mutation {{ deletePerson(id: "{victim}") {{ id }} }}'})
    response = await api.http.post("/graphql", data={"operations": operations, "map": "{}"}, files={"x": ("x", b"x")})
    assert response.status_code == 400 and code_of(response.json()) == "BAD_REQUEST"
    assert (await api.ok("query($id: ID!) { person(id: $id) { id } }", id=victim))["person"] is not None


async def test_unknown_host_names_are_refused(api):
    """DNS rebinding: a page served as evil.example that resolves to 127.0.0.1."""
    response = await api.http.post(
        "/graphql", json={"query": "{ model { name } }"}, headers={**api.headers, "host": "evil.example"}
    )
    assert response.status_code == 400
    assert (await api.http.get("/healthz")).status_code == 200


async def test_a_person_has_at_most_a_hundred_faces(api, person):
    template = await FaceRow.filter(person_id=person).first()
    person = await api.create_person("Crowded")
    columns = {name: getattr(template, name) for name in template._meta.db_fields if name not in ("id", "person_id")}
    await FaceRow.bulk_create([FaceRow(person_id=person, **columns) for _ in range(FACES_PER_PERSON_MAX)])
    enroller = api.as_key(await api.new_key("ENROL"))
    error = (await enroller.raw(CREATE_FACE, p=person, b=b64(ANGELINA[1])))["errors"][0]
    assert error["extensions"]["code"] == "INVALID_INPUT" and str(FACES_PER_PERSON_MAX) in error["message"]
    assert await FaceRow.filter(person_id=person).count() == FACES_PER_PERSON_MAX
