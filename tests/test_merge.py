"""mergePersons: two records of one person become one; the faces move, nothing is embedded again."""

from __future__ import annotations

from tests.helpers import ANGELINA, b64

MERGE = "mutation($into: ID!, $from: ID!) { mergePersons(into: $into, from: $from) { id name faceCount faces { id } } }"
FACES = "query($p: ID!) { person(id: $p) { faces { id } } }"
SEARCH = "query($b: String!) { verifyLinear(image: {base64: $b}) { match best { person { id } } } }"
VERIFY = "query($p: ID!, $b: String!) { verifyPerson(personId: $p, image: {base64: $b}) { match } }"


async def test_merging_moves_every_face_and_deletes_the_other(api):
    kept, duplicate = await api.create_person("Angelina Jolie"), await api.create_person("A. Jolie")
    kept_face = (await api.enrol(kept, ANGELINA[0]))["id"]
    moving = [(await api.enrol(duplicate, photo))["id"] for photo in ANGELINA[1:]]
    assert (await api.ok(SEARCH, b=b64(ANGELINA[2])))["verifyLinear"]["best"]["person"]["id"] == duplicate

    merged = (await api.ok(MERGE, into=kept, **{"from": duplicate}))["mergePersons"]
    assert merged["id"] == kept and merged["name"] == "Angelina Jolie" and merged["faceCount"] == 3
    assert sorted(f["id"] for f in merged["faces"]) == sorted([kept_face, *moving])  # same faces, same ids
    assert (await api.ok("query($p: ID!) { person(id: $p) { id } }", p=duplicate))["person"] is None
    # The search follows at once: the moved faces answer for the person kept.
    found = (await api.ok(SEARCH, b=b64(ANGELINA[2])))["verifyLinear"]
    assert found["match"] and found["best"]["person"]["id"] == kept
    assert (await api.ok(VERIFY, p=kept, b=b64(ANGELINA[2])))["verifyPerson"]["match"] is True

    audit = await api.ok("{ auditLog(last: 5) { edges { node { operation targets result } } } }")
    entry = [edge["node"] for edge in audit["auditLog"]["edges"] if edge["node"]["operation"] == "mergePersons"][-1]
    assert {kept, duplicate} <= set(entry["targets"]) and entry["result"] == "OK"


async def test_merging_needs_delete_and_two_persons_of_one_collection(api):
    first, second = await api.create_person("First"), await api.create_person("Second")
    face = (await api.enrol(second, ANGELINA[0]))["id"]
    before = await api.counts()

    editor = api.as_key(await api.new_key("READ", "ENROL", name="editor"))
    refused = await editor.error(MERGE, into=first, **{"from": second})
    assert refused["extensions"]["code"] == "FORBIDDEN" and refused["extensions"]["scope"] == "DELETE"
    assert (await api.error(MERGE, into=first, **{"from": first}))["extensions"]["code"] == "INVALID_INPUT"

    other = await api.ok('mutation { createCollection(input: {name: "merge-elsewhere"}) { id } }')
    stranger = (
        await api.ok(
            'mutation($c: ID) { createPerson(input: {name: "Elsewhere"}, collection: $c) { id } }',
            c=other["createCollection"]["id"],
        )
    )["createPerson"]["id"]
    across = await api.error(MERGE, into=first, **{"from": stranger})
    assert across["extensions"]["code"] == "INVALID_INPUT" and "one collection" in across["message"]
    missing = await api.error(MERGE, into=first, **{"from": "00000000-0000-0000-0000-000000000000"})
    assert missing["extensions"]["code"] == "NOT_FOUND"

    # Nothing of it changed anything.
    assert await api.counts() == before
    assert (await api.ok(FACES, p=second))["person"]["faces"] == [{"id": face}]
