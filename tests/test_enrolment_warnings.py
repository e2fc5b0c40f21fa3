"""createFace warns about the same photo enrolled twice and about a face that is another person's."""

from __future__ import annotations

from tests.helpers import ANGELINA, b64

ENROL = """mutation($p: ID!, $b: String!, $reject: Boolean!) {
  createFace(personId: $p, image: {base64: $b}, rejectIfMatchesOther: $reject) {
    id warnings { code message faceId personId distance } } }"""


async def enrol(api, person: str, photo, reject: bool = False) -> dict:
    return (await api.ok(ENROL, p=person, b=b64(photo), reject=reject))["createFace"]


async def test_warnings_at_enrolment(api):
    ada, eve = await api.create_person("Ada"), await api.create_person("Eve")
    first = await enrol(api, ada, ANGELINA[0])
    assert first["warnings"] == []
    assert (await enrol(api, ada, ANGELINA[1]))["warnings"] == []  # the same person again: nothing to say

    twice = await enrol(api, eve, ANGELINA[0])
    warnings = {warning["code"]: warning for warning in twice["warnings"]}
    assert set(warnings) == {"SAME_IMAGE_ENROLLED", "MATCHES_OTHER_PERSON"}
    assert warnings["SAME_IMAGE_ENROLLED"]["faceId"] == first["id"]
    assert warnings["SAME_IMAGE_ENROLLED"]["personId"] == ada
    other = warnings["MATCHES_OTHER_PERSON"]
    assert other["personId"] == ada and other["distance"] < api.services.model().thresholds.default

    # Read later, a face carries no warnings.
    read = await api.ok("query($id: ID!) { face(id: $id) { warnings { code } } }", id=twice["id"])
    assert read["face"]["warnings"] == []


async def test_reject_if_matches_other_enrols_nothing(api):
    ada, eve = await api.create_person("Ada 2"), await api.create_person("Eve 2")
    await enrol(api, ada, ANGELINA[1])
    before = await api.counts()
    error = await api.error(ENROL, p=eve, b=b64(ANGELINA[2]), reject=True)
    assert error["extensions"]["code"] == "MATCHES_OTHER_PERSON"
    assert error["extensions"]["personId"] != eve  # Ada, or the Ada of the test before: the same face
    assert error["extensions"]["distance"] < api.services.model().thresholds.default
    assert await api.counts() == before


async def test_reject_if_same_image_enrols_nothing(api):
    ada = await api.create_person("Ada 3")
    first = await enrol(api, ada, ANGELINA[0])
    before = await api.counts()
    again = (
        "mutation($p: ID!, $b: String!) { createFace(personId: $p, image: {base64: $b}, rejectIfSameImage: true) {id} }"
    )
    error = await api.error(again, p=ada, b=b64(ANGELINA[0]))
    assert error["extensions"]["code"] == "SAME_IMAGE_ENROLLED"
    # It names the earliest copy: `first`, unless a test before enrolled the same photo (its warning says so).
    earliest = first["warnings"][0]["faceId"] if first["warnings"] else first["id"]
    assert error["extensions"]["faceId"] == earliest
    assert await api.counts() == before
