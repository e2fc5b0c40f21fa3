"""A person's cover face: the one chosen to show for them, else their oldest; a list of persons reads one each.

An SQLite file from before cover faces is upgraded at start: tests/test_gallery_sync.py.
"""

from __future__ import annotations

from tests.helpers import ANGELINA

COVER = "query($p: ID!) { person(id: $p) { coverFace { id cropJpegBase64 } } }"
SET_COVER = "mutation($p: ID!, $f: ID) { updatePerson(id: $p, input: {coverFaceId: $f}) { coverFace { id } } }"
MOVE = "mutation($f: ID!, $p: ID!) { updateFace(id: $f, personId: $p) { id } }"


async def cover_of(api, person: str) -> str | None:
    cover = (await api.ok(COVER, p=person))["person"]["coverFace"]
    return cover and cover["id"]


async def test_the_cover_is_the_chosen_face_else_the_oldest(api):
    person = await api.create_person("Cover")
    assert await cover_of(api, person) is None  # no face yet
    oldest, second, third = [(await api.enrol(person, photo))["id"] for photo in ANGELINA[:3]]
    assert await cover_of(api, person) == oldest
    shown = (await api.ok(COVER, p=person))["person"]["coverFace"]
    assert shown["cropJpegBase64"]  # what a card shows: one crop

    assert (await api.ok(SET_COVER, p=person, f=second))["updatePerson"]["coverFace"]["id"] == second
    assert await cover_of(api, person) == second

    await api.ok("mutation($f: ID!) { deleteFace(id: $f) { id } }", f=second)  # the cover deleted: the oldest
    assert await cover_of(api, person) == oldest
    await api.ok(SET_COVER, p=person, f=third)
    await api.ok(SET_COVER, p=person, f=None)  # null: back to the oldest
    assert await cover_of(api, person) == oldest

    await api.ok(SET_COVER, p=person, f=third)
    other = await api.create_person("Elsewhere")
    await api.ok(MOVE, f=third, p=other)  # the cover moved to someone else: theirs now, not this person's
    assert await cover_of(api, person) == oldest
    assert await cover_of(api, other) == third


async def test_only_the_persons_own_face_can_be_their_cover(api):
    person, other = await api.create_person("Mine"), await api.create_person("Theirs")
    mine = (await api.enrol(person, ANGELINA[0]))["id"]
    theirs = (await api.enrol(other, ANGELINA[1]))["id"]
    refused = await api.error(SET_COVER, p=person, f=theirs)
    assert refused["extensions"]["code"] == "INVALID_INPUT" and "not one of this person's faces" in refused["message"]
    assert (await api.error(SET_COVER, p=person, f="not-an-id"))["extensions"]["code"] == "INVALID_INPUT"
    assert await cover_of(api, person) == mine


async def test_a_page_of_persons_shows_each_its_own_cover(api):
    persons = [await api.create_person(f"Page {n}") for n in range(3)]
    faces = [[(await api.enrol(person, photo))["id"] for photo in ANGELINA[:2]] for person in persons]
    await api.ok(SET_COVER, p=persons[1], f=faces[1][1])
    page = await api.ok('{ persons(search: "Page ", first: 10) { edges { node { id coverFace { id } } } } }')
    covers = {edge["node"]["id"]: edge["node"]["coverFace"]["id"] for edge in page["persons"]["edges"]}
    assert covers == {persons[0]: faces[0][0], persons[1]: faces[1][1], persons[2]: faces[2][0]}
