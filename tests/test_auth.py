"""API keys and scopes: every field asks for its scope; keys are created, used, listed and revoked."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest
from graphql import GraphQLObjectType
from strawberry.permission import PermissionExtension

from auth.permissions import RequireKey, RequireScope
from models import ApiKey as ApiKeyRow
from schema.root import schema
from tests.helpers import ANGELINA, b64, extensions_of

KEY_FIELDS = "id name scopes createdAt lastUsedAt revokedAt fromEnvironment"


@pytest.fixture(scope="module")
async def enrolled(api) -> dict[str, str]:
    person = await api.create_person("Angelina")
    face = await api.enrol(person, ANGELINA[0])
    return {"person": person, "face": face["id"]}


def scopes_declared(type_name: str) -> dict[str, str | None]:
    """Each field of a type: the scope its permission extension asks for ("any key": a key and no scope;
    None: no permission)."""
    definition = schema.get_type_by_name(type_name)
    declared: dict[str, str | None] = {}
    for field in definition.fields:  # type: ignore[union-attr]
        permissions = [
            permission
            for extension in field.extensions
            if isinstance(extension, PermissionExtension)
            for permission in extension.permissions
            if isinstance(permission, RequireScope | RequireKey)
        ]
        scope = None
        if permissions:
            scope = permissions[0].scope.value if isinstance(permissions[0], RequireScope) else "any key"
        declared[schema.config.name_converter.from_field(field)] = scope
    return declared


def test_every_root_field_declares_its_scope():
    root_fields = {**scopes_declared("Query"), **scopes_declared("Mutation")}
    assert None not in root_fields.values(), root_fields
    assert root_fields["persons"] == "READ" and root_fields["verifyLinear"] == "VERIFY"
    assert root_fields["createFace"] == "ENROL" and root_fields["deletePerson"] == "DELETE"
    assert root_fields["faceEmbedding"] == "BIOMETRICS" and root_fields["createApiKey"] == "ADMIN"
    assert scopes_declared("Face")["cropJpegBase64"] == "BIOMETRICS"
    assert [name for name, scope in root_fields.items() if scope == "any key"] == ["me"]
    # The schema agrees: the root types are the ones checked.
    graphql_schema = schema._schema
    assert isinstance(graphql_schema.query_type, GraphQLObjectType)
    assert set(graphql_schema.query_type.fields) == set(scopes_declared("Query"))


async def test_no_key_is_unauthenticated_on_every_field(api, enrolled):
    anonymous = api.as_key(None)
    for query in (
        "{ persons { totalCount } }",
        "{ model { name } }",
        'mutation { createPerson(input: {name: "x"}) { id } }',
        "{ apiKeys { id } }",
    ):
        error = await anonymous.error(query)
        assert error["extensions"]["code"] == "UNAUTHENTICATED", query
        assert "Authorization: Bearer" in error["message"]
    assert await api.counts() == (1, 1)


async def test_unknown_key_is_refused_with_401(api):
    for headers in ({"Authorization": "Bearer fid_not-a-key"}, {"X-API-Key": "fid_not-a-key"}):
        response = await api.http.post("/graphql", json={"query": "{ model { name } }"}, headers=headers)
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_scopes_decide_what_a_key_may_do(api, enrolled):
    reader = api.as_key(await api.new_key("READ", name="reader"))
    data = await reader.ok("{ persons { totalCount } model { name } }")
    assert data["persons"]["totalCount"] == 1

    error = await reader.error('mutation { createPerson(input: {name: "x"}) { id } }')
    assert extensions_of(error) == {"code": "FORBIDDEN", "scope": "ENROL"}
    error = await reader.error("query($id: ID!) { faceEmbedding(faceId: $id) { dimension } }", id=enrolled["face"])
    assert error["extensions"]["scope"] == "BIOMETRICS"

    # A crop needs BIOMETRICS: the rest of the face is still read.
    body = await reader.raw("query($id: ID!) { face(id: $id) { id cropJpegBase64 } }", id=enrolled["face"])
    assert body["errors"][0]["path"] == ["face", "cropJpegBase64"]
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    verifier = api.as_key(await api.new_key("VERIFY", name="gate"))
    query = "query($b: String!) { verifyLinear(image: {base64: $b}) { match best { person { id } } } }"
    assert (await verifier.ok(query, b=b64(ANGELINA[1])))["verifyLinear"]["match"] is True
    assert (await verifier.error("{ persons { totalCount } }"))["extensions"]["code"] == "FORBIDDEN"
    assert await api.counts() == (1, 1)


async def test_x_api_key_header_works_like_bearer(api):
    secret = await api.new_key("READ")
    response = await api.http.post("/graphql", json={"query": "{ model { name } }"}, headers={"X-API-Key": secret})
    assert response.status_code == 200 and response.json()["data"]["model"]["name"] == api.services.model_id


async def test_key_lifecycle(api):
    created = await api.ok(
        f'mutation {{ createApiKey(name: "ci", scopes: [READ, VERIFY]) {{ secret apiKey {{ {KEY_FIELDS} }} }} }}'
    )
    secret, key = created["createApiKey"]["secret"], created["createApiKey"]["apiKey"]
    assert secret.startswith("fid_") and len(secret) >= 40
    assert key["scopes"] == ["READ", "VERIFY"] and key["lastUsedAt"] is None and key["revokedAt"] is None

    await api.as_key(secret).ok("{ model { name } }")
    listed = {k["id"]: k for k in (await api.ok(f"{{ apiKeys {{ {KEY_FIELDS} }} }}"))["apiKeys"]}
    assert listed[key["id"]]["lastUsedAt"] is not None
    assert any(k["fromEnvironment"] for k in listed.values())  # the tests' ADMIN_API_KEY

    revoked = await api.ok("mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }", id=key["id"])
    assert revoked["revokeApiKey"]["revokedAt"] is not None
    response = await api.http.post(
        "/graphql", json={"query": "{ model { name } }"}, headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 401
    active = {k["id"] for k in (await api.ok("{ apiKeys { id } }"))["apiKeys"]}
    assert key["id"] not in active
    everything = (await api.ok("{ apiKeys(includeRevoked: true) { id } }"))["apiKeys"]
    assert key["id"] in {k["id"] for k in everything}


async def test_key_management_needs_admin_and_checks_input(api):
    enroller = api.as_key(await api.new_key("ENROL", "DELETE", "BIOMETRICS"))
    error = await enroller.error('mutation { createApiKey(name: "x", scopes: [ADMIN]) { secret } }')
    assert error["extensions"]["code"] == "FORBIDDEN"
    for mutation in ('createApiKey(name: " ", scopes: [READ])', 'createApiKey(name: "x", scopes: [])'):
        error = await api.error(f"mutation {{ {mutation} {{ secret }} }}")
        assert error["extensions"]["code"] == "INVALID_INPUT"
    error = await api.error('mutation { revokeApiKey(id: "00000000-0000-0000-0000-000000000000") { id } }')
    assert error["extensions"]["code"] == "NOT_FOUND"


async def test_secrets_are_stored_only_as_hashes(api):
    secret = await api.new_key("READ", name="hash check")
    if api.services.settings.on_postgres:
        stored = repr(await ApiKeyRow.all().values()).encode()
    else:
        database = api.services.settings.data_dir / "faces.sqlite3"
        with sqlite3.connect(database) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        stored = database.read_bytes() + database.with_suffix(".sqlite3-wal").read_bytes()
    assert secret.encode() not in stored
    assert hashlib.sha256(secret.encode()).hexdigest().encode() in stored
    assert "secret" not in {field.name for field in schema.get_type_by_name("ApiKey").fields}  # type: ignore[union-attr]


async def test_metrics_needs_admin(api):
    assert (await api.http.get("/metrics")).status_code == 401
    reader = await api.new_key("READ")
    response = await api.http.get("/metrics", headers={"Authorization": f"Bearer {reader}"})
    assert response.status_code == 403 and response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await api.http.get("/metrics", headers=api.headers)).status_code == 200


async def test_a_key_asks_what_it_may_do(api):
    """`me`: what the console asks to show only the controls a key may use."""
    verifier = api.as_key(await api.new_key("READ", "VERIFY", name="kiosk"))
    me = (await verifier.ok("{ me { keyId name scopes allowed collections } }"))["me"]
    assert me["name"] == "kiosk" and me["scopes"] == ["READ", "VERIFY"] and me["allowed"] == ["READ", "VERIFY"]
    assert me["keyId"] and me["collections"] is None
    admin = (await api.ok("{ me { scopes allowed } }"))["me"]
    assert admin["scopes"] == ["ADMIN"]
    assert admin["allowed"] == ["READ", "VERIFY", "ENROL", "DELETE", "BIOMETRICS", "ADMIN"]
    anonymous = await api.as_key(None).error("{ me { name } }")
    assert anonymous["extensions"]["code"] == "UNAUTHENTICATED"
