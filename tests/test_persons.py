"""Person CRUD, pagination and validation through the GraphQL API."""

from __future__ import annotations

import uuid

PERSON_FIELDS = "id name externalId metadata createdAt updatedAt faceCount faces { id }"


async def test_create_read_update_delete(api):
    created = await api.ok(
        f"mutation($i: PersonInput!) {{ createPerson(input: $i) {{ {PERSON_FIELDS} }} }}",
        i={"name": "  Ada Lovelace ", "externalId": "crud-1", "metadata": {"team": "math", "n": [1, 2]}},
    )
    person = created["createPerson"]
    assert person["name"] == "Ada Lovelace"  # trimmed
    assert person["externalId"] == "crud-1"
    assert person["metadata"] == {"team": "math", "n": [1, 2]}
    assert person["faceCount"] == 0 and person["faces"] == []
    uuid.UUID(person["id"])

    read = await api.ok(f"query($id: ID!) {{ person(id: $id) {{ {PERSON_FIELDS} }} }}", id=person["id"])
    assert read["person"] == person

    updated = await api.ok(
        "mutation($id: ID!, $p: PersonPatch!) { updatePerson(id: $id, input: $p) { name externalId metadata } }",
        id=person["id"],
        p={"name": "Ada King", "externalId": None},
    )
    # Left out: unchanged; null: cleared.
    assert updated["updatePerson"] == {
        "name": "Ada King",
        "externalId": None,
        "metadata": {"team": "math", "n": [1, 2]},
    }

    deleted = await api.ok("mutation($id: ID!) { deletePerson(id: $id) { id deletedFaces } }", id=person["id"])
    assert deleted["deletePerson"] == {"id": person["id"], "deletedFaces": 0}
    assert (await api.ok("query($id: ID!) { person(id: $id) { id } }", id=person["id"]))["person"] is None


async def test_pagination_and_search(api):
    ids = [await api.create_person(f"Page Person {i}", externalId=f"page-{i}") for i in range(5)]
    seen, after = [], None
    while True:
        page = (
            await api.ok(
                """query($after: String) { persons(first: 2, after: $after, search: "page person") {
                     totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }""",
                after=after,
            )
        )["persons"]
        assert page["totalCount"] == 5
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ids  # oldest first, each once

    by_external = await api.ok('{ persons(search: "page-3") { edges { node { id } } } }')
    assert [e["node"]["id"] for e in by_external["persons"]["edges"]] == [ids[3]]


async def test_invalid_person_input_changes_nothing(api):
    await api.create_person("Taken", externalId="dup-1")
    before = await api.counts()
    cases = [
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 201},
        {"name": "Other", "externalId": "dup-1"},
        {"name": "Other", "metadata": [1, 2]},
    ]
    for person in cases:
        error = await api.error("mutation($i: PersonInput!) { createPerson(input: $i) { id } }", i=person)
        assert error["extensions"]["code"] == "INVALID_INPUT", (person, error)
    assert await api.counts() == before


async def test_update_rejects_duplicate_external_id(api):
    await api.create_person("First", externalId="upd-a")
    second = await api.create_person("Second", externalId="upd-b")
    error = await api.error(
        'mutation($id: ID!) { updatePerson(id: $id, input: {externalId: "upd-a"}) { id } }', id=second
    )
    assert error["extensions"]["code"] == "INVALID_INPUT"
    person = await api.ok("query($id: ID!) { person(id: $id) { externalId } }", id=second)
    assert person["person"]["externalId"] == "upd-b"


async def test_ids_not_found_and_malformed(api):
    missing = str(uuid.uuid4())
    for query in (
        "mutation($id: ID!) { deletePerson(id: $id) { id } }",
        'mutation($id: ID!) { updatePerson(id: $id, input: {name: "x"}) { id } }',
        "query($id: ID!) { facesByPerson(personId: $id) { id } }",
    ):
        assert (await api.error(query, id=missing))["extensions"]["code"] == "NOT_FOUND"
        assert (await api.error(query, id="not-a-uuid"))["extensions"]["code"] == "INVALID_INPUT"
    assert (await api.ok("query($id: ID!) { person(id: $id) { id } }", id=missing))["person"] is None


async def test_page_size_bounds(api):
    for first in (0, 501):
        error = await api.error("query($f: Int!) { persons(first: $f) { totalCount } }", f=first)
        assert error["extensions"]["code"] == "INVALID_INPUT"
    error = await api.error('{ persons(after: "garbage") { totalCount } }')
    assert error["extensions"]["code"] == "INVALID_INPUT"
