"""What generated clients rely on: @oneOf images, @specifiedBy scalars, null as "the default",
a reachable ErrorCode, and the GraphQL over HTTP media type."""

from __future__ import annotations

from bounds import PAGE_SIZE_DEFAULT
from schema.export import sdl


def test_schema_declares_one_of_and_specified_by():
    text = sdl()
    assert "input ImageInput @oneOf" in text
    for scalar in ("DateTime", "Upload", "JSON"):
        assert f"scalar {scalar} @specifiedBy(url:" in text, scalar


async def test_null_paging_arguments_mean_the_default(api):
    await api.create_person("Paged")
    data = await api.ok(
        "query($n: Int, $a: String) { persons(first: $n, after: $a) { totalCount edges { cursor } } }", n=None, a=None
    )
    assert data["persons"]["totalCount"] >= 1
    assert len(data["persons"]["edges"]) == min(data["persons"]["totalCount"], PAGE_SIZE_DEFAULT)


async def test_error_codes_are_reachable_from_an_operation(api):
    codes = {entry["code"] for entry in (await api.ok("{ errorCodes { code description } }"))["errorCodes"]}
    assert {"UNAUTHENTICATED", "QUERY_TOO_COMPLEX", "BAD_IMAGE", "INTERNAL"} <= codes


async def test_graphql_response_json_media_type(api):
    accept = {**api.headers, "accept": "application/graphql-response+json, application/json;q=0.9"}
    ok = await api.http.post("/graphql", json={"query": "{ model { name } }"}, headers=accept)
    assert ok.status_code == 200 and ok.headers["content-type"].startswith("application/graphql-response+json")
    invalid = await api.http.post("/graphql", json={"query": "{ nosuchfield }"}, headers=accept)
    assert invalid.status_code == 400
    assert invalid.headers["content-type"].startswith("application/graphql-response+json")
    assert invalid.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    plain = await api.http.post("/graphql", json={"query": "{ model { name } }"}, headers=api.headers)
    assert plain.headers["content-type"].startswith("application/json")
