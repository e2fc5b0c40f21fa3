"""Relay: node(id:) for persons and faces, and paging backwards with last/before."""

from __future__ import annotations

import uuid

from tests.helpers import ANGELINA

PAGE = """query($first: Int, $after: String, $last: Int, $before: String) {
  persons(first: $first, after: $after, last: $last, before: $before) {
    totalCount edges { cursor node { name } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""


async def test_node_fetches_persons_and_faces(api):
    person = await api.create_person("Noded")
    face = await api.enrol(person, ANGELINA[0])
    query = "query($id: ID!) { node(id: $id) { __typename id ... on Person { name } ... on Face { personId } } }"
    assert (await api.ok(query, id=person))["node"] == {"__typename": "Person", "id": person, "name": "Noded"}
    assert (await api.ok(query, id=face["id"]))["node"] == {"__typename": "Face", "id": face["id"], "personId": person}
    assert (await api.ok(query, id=str(uuid.uuid4())))["node"] is None


async def test_paging_backwards(api):
    names = [f"relay {i}" for i in range(5)]
    for name in names:
        await api.create_person(name)
    everyone = [edge["node"]["name"] for edge in (await api.ok(PAGE, first=100))["persons"]["edges"]]
    tail = (await api.ok(PAGE, last=2))["persons"]
    assert [edge["node"]["name"] for edge in tail["edges"]] == everyone[-2:]
    assert tail["pageInfo"]["hasPreviousPage"] is True and tail["pageInfo"]["hasNextPage"] is False
    before = (await api.ok(PAGE, last=2, before=tail["pageInfo"]["startCursor"]))["persons"]
    assert [edge["node"]["name"] for edge in before["edges"]] == everyone[-4:-2]
    assert before["pageInfo"]["hasNextPage"] is True
    # Forward again from there lands on the same tail.
    forward = (await api.ok(PAGE, first=2, after=before["pageInfo"]["endCursor"]))["persons"]
    assert [edge["node"]["name"] for edge in forward["edges"]] == everyone[-2:]

    error = await api.error(PAGE, first=2, last=2)
    assert error["extensions"]["code"] == "INVALID_INPUT"
    error = await api.error(PAGE, last=0)
    assert error["extensions"]["code"] == "INVALID_INPUT"
