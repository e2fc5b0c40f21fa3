"""Collections: two tenants with the same names and photos on one server never meet.

Every root field of the schema is tried by a key bound to collection A with B's ids or
B as its `collection`: it must answer NOT_FOUND, null or an empty list, never FORBIDDEN
and never B's data. On SQLite and PostgreSQL, with the memory and the pgvector backends.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from models import DEFAULT_COLLECTION_ID
from models import Job as JobRow
from schema.root import schema
from tests.helpers import ADMIN_KEY, ANGELINA, Api, b64, extensions_of, migrated_database, server_settings

ALL_SCOPES = ("READ", "VERIFY", "ENROL", "DELETE", "BIOMETRICS", "ADMIN")
CREATE = "mutation($i: CollectionInput!) { createCollection(input: $i) { id name model } }"
CREATE_PERSON = "mutation($i: PersonInput!, $c: ID) { createPerson(input: $i, collection: $c) { id collectionId } }"
VERIFY = """query($b: String!, $c: ID, $exact: Boolean! = true) {
  verifyLinear(image: {base64: $b}, collection: $c, limit: 10, exact: $exact) {
    match searched candidates { distance person { id collectionId } }
  }
}"""


@pytest.fixture(scope="module", params=["sqlite", "postgres", "pgvector"])
def settings(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    data_dir = tmp_path_factory.mktemp("collections")
    if request.param == "sqlite":
        return server_settings(data_dir)
    url = migrated_database(request.getfixturevalue("postgres"))
    if request.param == "pgvector":  # every `exact: false` through the HNSW index, however small the collection
        return server_settings(data_dir, database_url=url, search_backend="pgvector", hnsw_min_faces=0)
    return server_settings(data_dir, database_url=url)


@dataclass
class Tenants:
    """Collections A and B, each with an Angelina (same name, externalId and photos), and a key of A's."""

    a: str
    b: str
    person_a: str
    person_b: str
    face_a: str
    face_b: str
    key_a: Api  # every scope, ADMIN included, bound to A

    @property
    def b_ids(self) -> set[str]:
        return {self.b, self.person_b, self.face_b}


async def enrol_in(api: Api, collection: str) -> tuple[str, str]:
    person = await api.ok(CREATE_PERSON, i={"name": "Angelina", "externalId": "angelina"}, c=collection)
    person_id = person["createPerson"]["id"]
    face = (await api.enrol(person_id, ANGELINA[0]))["id"]
    await api.enrol(person_id, ANGELINA[1])
    return person_id, face


@pytest.fixture(scope="module")
async def tenants(api: Api) -> Tenants:
    a = (await api.ok(CREATE, i={"name": "tenant a"}))["createCollection"]["id"]
    b = (await api.ok(CREATE, i={"name": "tenant b", "description": "the other one"}))["createCollection"]["id"]
    person_a, face_a = await enrol_in(api, a)
    person_b, face_b = await enrol_in(api, b)
    key = await api.new_key(*ALL_SCOPES, name="tenant a admin", collections=[a])
    return Tenants(a, b, person_a, person_b, face_a, face_b, api.as_key(key))


async def not_found(api: Api, query: str, **variables: Any) -> None:
    error = await api.error(query, **variables)
    assert error["extensions"]["code"] == "NOT_FOUND", error


async def answers(api: Api, query: str, **variables: Any) -> dict:
    return await api.ok(query, **variables)


def mentions(data: object, ids: set[str]) -> bool:
    text = repr(data)
    return any(identifier in text for identifier in ids)


Case = Callable[[Tenants], Awaitable[None]]


def refused(query: str, **ids: str) -> Case:
    """A case in which the field, given B's ids (`ids`: variable -> Tenants attribute), is NOT_FOUND."""

    async def case(t: Tenants) -> None:
        await not_found(t.key_a, query, **{variable: getattr(t, attribute) for variable, attribute in ids.items()})

    return case


async def _persons(t: Tenants) -> None:
    mine = await answers(t.key_a, "{ persons { edges { node { id } } } }")  # its only collection: A
    assert [edge["node"]["id"] for edge in mine["persons"]["edges"]] == [t.person_a]
    await not_found(t.key_a, "query($c: ID) { persons(collection: $c) { totalCount } }", c=t.b)


async def _node(t: Tenants) -> None:
    for foreign in (t.person_b, t.face_b):
        assert (await answers(t.key_a, "query($id: ID!) { node(id: $id) { id } }", id=foreign))["node"] is None


async def _person(t: Tenants) -> None:
    assert (await answers(t.key_a, "query($id: ID!) { person(id: $id) { id } }", id=t.person_b))["person"] is None


async def _faces(t: Tenants) -> None:
    mine = await answers(t.key_a, "{ faces { edges { node { id personId } } } }")
    assert {edge["node"]["personId"] for edge in mine["faces"]["edges"]} == {t.person_a}
    await not_found(t.key_a, "query($c: ID) { faces(collection: $c) { totalCount } }", c=t.b)


async def _face(t: Tenants) -> None:
    assert (await answers(t.key_a, "query($id: ID!) { face(id: $id) { id } }", id=t.face_b))["face"] is None


async def _verify_linear(t: Tenants) -> None:
    found = (await answers(t.key_a, VERIFY, b=b64(ANGELINA[0])))["verifyLinear"]
    assert found["match"] and {c["person"]["id"] for c in found["candidates"]} == {t.person_a}
    await not_found(t.key_a, VERIFY, b=b64(ANGELINA[0]), c=t.b)


async def _verify_person(t: Tenants) -> None:
    query = "query($p: ID!, $b: String!) { verifyPerson(personId: $p, image: {base64: $b}) { match } }"
    await not_found(t.key_a, query, p=t.person_b, b=b64(ANGELINA[2]))


async def _recognize_faces(t: Tenants) -> None:
    query = (
        "query($b: String!, $c: ID) { recognizeFaces(image: {base64: $b}, collection: $c) { best { person { id } } } }"
    )
    mine = await answers(t.key_a, query, b=b64(ANGELINA[0]))
    assert [answer["best"]["person"]["id"] for answer in mine["recognizeFaces"]] == [t.person_a]
    await not_found(t.key_a, query, b=b64(ANGELINA[0]), c=t.b)


async def _search_by_embedding(t: Tenants) -> None:
    stored = await answers(t.key_a, "query($id: ID!) { faceEmbedding(faceId: $id) { vector model } }", id=t.face_a)
    vector, model = stored["faceEmbedding"]["vector"], stored["faceEmbedding"]["model"]
    query = """query($v: [Float!]!, $m: String!, $c: ID) {
      searchByEmbedding(vector: $v, model: $m, collection: $c, limit: 10) { candidates { person { id } } }
    }"""
    mine = await answers(t.key_a, query, v=vector, m=model)
    assert {c["person"]["id"] for c in mine["searchByEmbedding"]["candidates"]} == {t.person_a}
    await not_found(t.key_a, query, v=vector, m=model, c=t.b)


async def _api_keys(t: Tenants) -> None:
    keys = (await answers(t.key_a, "{ apiKeys { name collections } }"))["apiKeys"]
    assert keys == [{"name": "tenant a admin", "collections": [t.a]}]  # not the server's admin key


async def _audit_log(t: Tenants) -> None:
    query = "{ auditLog(last: 500) { edges { node { keyName targets result } } } }"
    entries = [edge["node"] for edge in (await answers(t.key_a, query))["auditLog"]["edges"]]
    # The server admin's writes in B (and A) are not this tenant's to read; its own tries at B's ids (the ids it
    # sent) all failed.
    assert {entry["keyName"] for entry in entries} == {"tenant a admin"}
    assert not mentions([entry for entry in entries if entry["result"] == "OK"], t.b_ids)


async def _collections(t: Tenants) -> None:
    listed = await answers(t.key_a, "{ collections { id personCount faceCount } }")
    assert listed["collections"] == [{"id": t.a, "personCount": 1, "faceCount": 2}]


async def _collection(t: Tenants) -> None:
    for foreign in (t.b, str(DEFAULT_COLLECTION_ID)):
        assert (await answers(t.key_a, "query($id: ID!) { collection(id: $id) { id } }", id=foreign))[
            "collection"
        ] is None


async def _create_person(t: Tenants) -> None:
    await not_found(t.key_a, CREATE_PERSON, i={"name": "Intruder"}, c=t.b)


async def _create_face(t: Tenants) -> None:
    query = "mutation($p: ID!, $b: String!) { createFace(personId: $p, image: {base64: $b}) { id } }"
    await not_found(t.key_a, query, p=t.person_b, b=b64(ANGELINA[2]))


async def _update_face(t: Tenants) -> None:
    await not_found(
        t.key_a, "mutation($id: ID!, $p: ID!) { updateFace(id: $id, personId: $p) { id } }", id=t.face_b, p=t.person_a
    )
    # Nor can A's face be moved to B's person.
    await not_found(
        t.key_a, "mutation($id: ID!, $p: ID!) { updateFace(id: $id, personId: $p) { id } }", id=t.face_a, p=t.person_b
    )


async def _create_api_key(t: Tenants) -> None:
    query = 'mutation($c: [ID!]) { createApiKey(name: "k", scopes: [READ], collections: $c) { secret } }'
    await not_found(t.key_a, query, c=[t.b])
    # A key for every collection would reach beyond the tenant: refused (no id is named, so nothing leaks).
    assert (await t.key_a.error(query, c=None))["extensions"]["code"] == "FORBIDDEN"


async def _revoke_api_key(t: Tenants) -> None:
    keys = (await answers(t.key_a.as_key(ADMIN_KEY), "{ apiKeys { id name } }"))["apiKeys"]
    server_admin = next(key["id"] for key in keys if key["name"] == "ADMIN_API_KEY")
    await not_found(t.key_a, "mutation($id: ID!) { revokeApiKey(id: $id) { id } }", id=server_admin)


async def _restore_person(t: Tenants) -> None:
    query = """mutation($id: ID!, $c: ID) {
      restorePerson(input: {id: $id, name: "x", createdAt: "2026-01-01T00:00:00Z", updatedAt: "2026-01-01T00:00:00Z"},
                    collection: $c) { id }
    }"""
    await not_found(t.key_a, query, id=t.person_b)  # B's id is not A's to take over
    await not_found(t.key_a, query, id="5f1d0000-0000-4000-8000-000000000000", c=t.b)


async def _restore_face(t: Tenants) -> None:
    query = """mutation($id: ID!, $p: ID!) {
      restoreFace(input: {id: $id, personId: $p, model: "m", embedding: [1.0], box: {x: 0, y: 0, width: 1, height: 1},
                          detector: "mtcnn", imageSha256: "%s", createdAt: "2026-01-01T00:00:00Z"}) { id }
    }""" % ("0" * 64)
    await not_found(t.key_a, query, id=t.face_b, p=t.person_a)
    await not_found(t.key_a, query, id="5f1d0000-0000-4000-8000-000000000001", p=t.person_b)


async def _reembed_faces(t: Tenants) -> None:
    done = await answers(t.key_a, "mutation { reembedFaces(limit: 500) { faceIds skipped { faceId } remaining } }")
    assert done["reembedFaces"] == {"faceIds": [], "skipped": [], "remaining": 0}


async def _create_collection(t: Tenants) -> None:
    error = await t.key_a.error(CREATE, i={"name": "a tenant's own"})
    assert error["extensions"]["code"] == "FORBIDDEN"


async def _job(t: Tenants) -> None:
    # A job of B's, as reembedCollection leaves one (this server loads one model, so none can be started here).
    row = await JobRow.create(
        kind="reembedCollection", collection_id=t.b, from_model="m1", to_model="m2", state="FAILED", error="x"
    )
    query = "query($id: ID!) { job(id: $id) { id state } }"
    assert (await answers(t.key_a, query, id=str(row.id)))["job"] is None
    assert (await answers(t.key_a.as_key(ADMIN_KEY), query, id=str(row.id)))["job"]["state"] == "FAILED"


async def _merge_persons(t: Tenants) -> None:
    merge = "mutation($into: ID!, $from: ID!) { mergePersons(into: $into, from: $from) { id } }"
    await not_found(t.key_a, merge, into=t.person_a, **{"from": t.person_b})  # B's faces cannot be taken in
    await not_found(t.key_a, merge, into=t.person_b, **{"from": t.person_a})  # nor A's given away


async def _start_liveness(t: Tenants) -> None:
    query = "mutation($p: ID, $c: ID) { startLiveness(personId: $p, collection: $c) { id } }"
    await not_found(t.key_a, query, p=t.person_b)  # B's person is not A's to verify against
    await not_found(t.key_a, query, c=t.b)


async def _check_liveness(t: Tenants) -> None:
    # A session of B's person, started by the server's admin: not A's to check, whatever its frames.
    started = await answers(
        t.key_a.as_key(ADMIN_KEY), "mutation($p: ID) { startLiveness(personId: $p) { id } }", p=t.person_b
    )
    query = "mutation($s: ID!, $f: [ImageInput!]!) { checkLiveness(session: $s, frames: $f) { live } }"
    await not_found(t.key_a, query, s=started["startLiveness"]["id"], f=[{"base64": b64(ANGELINA[0])}] * 4)


async def _reads_no_person(t: Tenants) -> None:
    """Fields that read or search no stored person: nothing of another collection can be in their answer."""


CASES: dict[str, Case] = {
    "persons": _persons,
    "node": _node,
    "person": _person,
    "faces": _faces,
    "face": _face,
    "facesByPerson": refused("query($p: ID!) { facesByPerson(personId: $p) { id } }", p="person_b"),
    "verifyLinear": _verify_linear,
    "verifyPerson": _verify_person,
    "recognizeFaces": _recognize_faces,
    "searchByEmbedding": _search_by_embedding,
    "faceEmbedding": refused("query($id: ID!) { faceEmbedding(faceId: $id) { vector } }", id="face_b"),
    "apiKeys": _api_keys,
    "auditLog": _audit_log,
    "collections": _collections,
    "collection": _collection,
    "createPerson": _create_person,
    "updatePerson": refused('mutation($id: ID!) { updatePerson(id: $id, input: {name: "R"}) { id } }', id="person_b"),
    "deletePerson": refused("mutation($id: ID!) { deletePerson(id: $id) { id } }", id="person_b"),
    "mergePersons": _merge_persons,
    "createFace": _create_face,
    "updateFace": _update_face,
    "deleteFace": refused("mutation($id: ID!) { deleteFace(id: $id) { id } }", id="face_b"),
    "createApiKey": _create_api_key,
    "revokeApiKey": _revoke_api_key,
    "restorePerson": _restore_person,
    "restoreFace": _restore_face,
    "reembedFaces": _reembed_faces,
    "createCollection": _create_collection,
    "updateCollection": refused('mutation($id: ID!) { updateCollection(id: $id, input: {name: "x"}) { id } }', id="b"),
    "deleteCollection": refused("mutation($id: ID!) { deleteCollection(id: $id) { id } }", id="b"),
    "reembedCollection": refused('mutation($id: ID!) { reembedCollection(id: $id, model: "x") { id } }', id="b"),
    "job": _job,
    # tests/test_jobs.py tries another's job over WebSocket.
    "jobProgress": _reads_no_person,
    # These store and search nothing, or answer for the model alone.
    "detectFaces": _reads_no_person,
    "embedFaces": _reads_no_person,
    "model": _reads_no_person,
    "models": _reads_no_person,
    "errorCodes": _reads_no_person,
    "me": _reads_no_person,  # the key's own name and scopes; its collections are its own
    # A live stream searches its collection: tests/test_live.py tries another's.
    "liveRecognition": _reads_no_person,
    "sendLiveFrame": _reads_no_person,
    "startLiveness": _start_liveness,
    "checkLiveness": _check_liveness,
    # It follows the key's own session only, as checkLiveness: tests/test_liveness.py tries another key's.
    "livenessCheck": _reads_no_person,
}


def test_every_root_field_has_a_case():
    """A new root field must say here how a tenant is kept out of another's data."""
    graphql = schema._schema
    roots = [graphql.query_type, graphql.mutation_type, graphql.subscription_type]
    fields = {name for root in roots if root is not None for name in root.fields}
    assert fields == set(CASES)


@pytest.mark.parametrize("field", [name for name, case in CASES.items() if case is not _reads_no_person])
async def test_a_key_of_one_collection_meets_nothing_of_another(tenants: Tenants, field: str):
    await CASES[field](tenants)


async def test_the_crop_url_of_another_collection_is_not_found_and_metrics_are_the_operator_s(
    api: Api, tenants: Tenants
):
    headers = tenants.key_a.headers
    assert (await api.http.get(f"/faces/{tenants.face_a}/crop.jpg", headers=headers)).status_code == 200
    foreign = await api.http.get(f"/faces/{tenants.face_b}/crop.jpg", headers=headers)
    assert foreign.status_code == 404 and foreign.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # /metrics spans every tenant: the operator's, not a tenant admin's.
    assert (await api.http.get("/metrics", headers=headers)).status_code == 403


@pytest.mark.parametrize("exact", [True, False])
async def test_one_collection_s_search_never_returns_another_s_persons(api: Api, tenants: Tenants, exact: bool):
    """The same photo is in A and B: a search in A finds it at distance 0, and nothing of B's however close."""
    for collection, person in ((tenants.a, tenants.person_a), (tenants.b, tenants.person_b)):
        found = (await api.ok(VERIFY, b=b64(ANGELINA[0]), c=collection, exact=exact))["verifyLinear"]
        if api.services.search.name == "memory":  # pgvector's counts are COUNT_REFRESH_S fresh
            assert found["searched"] == 2
        assert found["candidates"][0]["distance"] < 1e-3
        assert {c["person"]["id"] for c in found["candidates"]} == {person}
        assert {c["person"]["collectionId"] for c in found["candidates"]} == {collection}


async def test_the_same_external_id_may_live_in_each_collection_once(api: Api, tenants: Tenants):
    error = await api.error(CREATE_PERSON, i={"name": "Angelina again", "externalId": "angelina"}, c=tenants.a)
    assert error["extensions"]["code"] == "INVALID_INPUT" and "of the collection" in error["message"]
    # In the default collection the id is free: B's and A's do not count there.
    person = (await api.ok(CREATE_PERSON, i={"name": "Angelina", "externalId": "angelina"}))["createPerson"]
    assert person["collectionId"] == str(DEFAULT_COLLECTION_ID)
    await api.ok("mutation($id: ID!) { deletePerson(id: $id) { id } }", id=person["id"])


async def test_a_full_collection_refuses_with_limit_reached(api: Api):
    small = (await api.ok(CREATE, i={"name": "small", "maxPersons": 1, "maxFaces": 1}))["createCollection"]["id"]
    first = (await api.ok(CREATE_PERSON, i={"name": "One"}, c=small))["createPerson"]["id"]
    error = await api.error(CREATE_PERSON, i={"name": "Two"}, c=small)
    assert extensions_of(error) == {"code": "LIMIT_REACHED", "limit": "maxPersons", "max": 1}
    await api.enrol(first, ANGELINA[0])
    query = "mutation($p: ID!, $b: String!) { createFace(personId: $p, image: {base64: $b}) { id } }"
    error = await api.error(query, p=first, b=b64(ANGELINA[1]))
    assert extensions_of(error) == {"code": "LIMIT_REACHED", "limit": "maxFaces", "max": 1}
    counts = await api.ok("query($id: ID!) { collection(id: $id) { personCount faceCount } }", id=small)
    assert counts["collection"] == {"personCount": 1, "faceCount": 1}  # nothing half-written
    metrics = (await api.http.get("/metrics", headers={**api.headers, "Accept": "application/json"})).json()
    assert metrics["collections"][small] == {"name": "small", "persons": 1, "faces": 1}
    # Raised: room again.
    await api.ok("mutation($id: ID!) { updateCollection(id: $id, input: {maxFaces: null}) { id } }", id=small)
    await api.enrol(first, ANGELINA[1])
    await api.ok("mutation($id: ID!) { deleteCollection(id: $id) { id } }", id=small)


async def test_a_key_of_several_collections_names_the_one_it_means(api: Api, tenants: Tenants):
    both = api.as_key(await api.new_key("READ", name="both", collections=[tenants.a, tenants.b]))
    error = await both.error("{ persons { totalCount } }")
    assert error["extensions"]["code"] == "INVALID_INPUT" and "give `collection`" in error["message"]
    found = await both.ok("query($c: ID) { persons(collection: $c) { totalCount } }", c=tenants.b)
    assert found["persons"]["totalCount"] == 1


async def test_collections_are_named_once_and_the_default_one_stays(api: Api, tenants: Tenants):
    error = await api.error(CREATE, i={"name": "tenant a"})
    assert error["extensions"]["code"] == "INVALID_INPUT" and "already exists" in error["message"]
    error = await api.error("mutation($id: ID!) { deleteCollection(id: $id) { id } }", id=str(DEFAULT_COLLECTION_ID))
    assert error["extensions"]["code"] == "INVALID_INPUT"
    model = (await api.ok("{ model { name } }"))["model"]["name"]
    listed = (await api.ok("{ collections { id name model } }"))["collections"]
    assert listed[0] == {"id": str(DEFAULT_COLLECTION_ID), "name": "default", "model": model}
    assert {"tenant a", "tenant b"} <= {row["name"] for row in listed}
    error = await api.error(CREATE, i={"name": "pinned elsewhere", "model": "facenet512-something"})
    assert error["extensions"]["code"] == "INVALID_INPUT" and model in error["message"]


async def test_deleting_a_collection_takes_everything_in_it(api: Api):
    doomed = (await api.ok(CREATE, i={"name": "doomed"}))["createCollection"]["id"]
    person, face = await enrol_in(api, doomed)
    deleted = await api.ok(
        "mutation($id: ID!) { deleteCollection(id: $id) { id deletedPersons deletedFaces } }", id=doomed
    )
    assert deleted["deleteCollection"] == {"id": doomed, "deletedPersons": 1, "deletedFaces": 2}
    assert (await api.ok("query($id: ID!) { node(id: $id) { id } }", id=person))["node"] is None
    assert (await api.ok("query($id: ID!) { face(id: $id) { id } }", id=face))["face"] is None
    if api.services.search.name == "memory":  # pgvector's counts are COUNT_REFRESH_S fresh
        assert api.gallery.of(doomed) is None
    await not_found(api, VERIFY, b=b64(ANGELINA[0]), c=doomed)
