"""The in-memory gallery stays equal to the database: create, move, replace, delete,
a failed request, and a restart that rebuilds it from the database; a file of an earlier
release is upgraded at that start."""

from __future__ import annotations

import sqlite3

import numpy as np

from models import Face as FaceRow
from models.upgrade import ADDED_FACE_COLUMNS
from tests.helpers import ANGELINA, COUPLE, b64, server_settings, start_api


async def assert_gallery_matches_database(api) -> None:
    rows = await FaceRow.filter(model=api.services.model_id).values_list("id", "person_id", "embedding")
    gallery = api.gallery
    assert len(gallery) == len(rows)
    for face_id, person_id, embedding in rows:
        assert gallery.person_of(str(face_id)) == str(person_id)
        np.testing.assert_array_equal(gallery.vector(str(face_id)), np.frombuffer(embedding, dtype="<f4"))


async def test_gallery_follows_every_change_and_survives_restart(settings, pipeline):
    async with start_api(settings, pipeline) as api:
        alice, bob = await api.create_person("Alice"), await api.create_person("Bob")
        faces = [await api.enrol(alice, photo) for photo in ANGELINA]
        await assert_gallery_matches_database(api)

        await api.ok(
            "mutation($id: ID!, $p: ID!) { updateFace(id: $id, personId: $p) { id } }", id=faces[0]["id"], p=bob
        )
        await api.ok(
            "mutation($id: ID!, $b: String!) { updateFace(id: $id, image: {base64: $b}) { id } }",
            id=faces[1]["id"],
            b=b64(COUPLE),
        )
        await assert_gallery_matches_database(api)

        # A replacement photo without a face fails and changes nothing.
        error = await api.error(
            'mutation($id: ID!) { updateFace(id: $id, image: {base64: "aGVsbG8="}) { id } }', id=faces[2]["id"]
        )
        assert error["extensions"]["code"] == "BAD_IMAGE"
        await assert_gallery_matches_database(api)

        await api.ok("mutation($id: ID!) { deleteFace(id: $id) { id } }", id=faces[2]["id"])
        await api.ok("mutation($id: ID!) { deletePerson(id: $id) { id } }", id=bob)
        await assert_gallery_matches_database(api)
        remaining = len(api.gallery)
        assert remaining == 1

    async with start_api(settings, pipeline) as api:  # a restart on the same database
        assert len(api.gallery) == remaining
        await assert_gallery_matches_database(api)
        result = await api.ok(
            "query($b: String!) { verifyLinear(image: {base64: $b}) { best { person { name } } } }", b=b64(COUPLE)
        )
        assert result["verifyLinear"]["best"]["person"]["name"] == "Alice"


async def test_a_database_from_before_quality_is_upgraded_at_start(tmp_path, pipeline):
    settings = server_settings(tmp_path)
    async with start_api(settings, pipeline) as api:
        face = await api.enrol(await api.create_person("Before"), ANGELINA[0])
    # The face table as the first release made it: none of the quality columns.
    with sqlite3.connect(tmp_path / "faces.sqlite3") as db:
        for column in ADDED_FACE_COLUMNS:
            db.execute(f"ALTER TABLE face DROP COLUMN {column}")
    async with start_api(settings, pipeline) as api:
        read = await api.ok("query($id: ID!) { face(id: $id) { id quality { sharpness } } }", id=face["id"])
        assert read["face"] == {"id": face["id"], "quality": None}
        assert len(api.gallery) == 1
        person = (await api.ok("{ persons { edges { node { id } } } }"))["persons"]["edges"][0]["node"]["id"]
        enrol = (
            "mutation($p: ID!, $b: String!) { createFace(personId: $p, image: {base64: $b}) { quality { sharpness } } }"
        )
        new = await api.ok(enrol, p=person, b=b64(ANGELINA[1]))
        assert new["createFace"]["quality"]["sharpness"] > 0


async def test_a_database_from_before_cover_faces_is_upgraded_at_start(tmp_path, pipeline):
    settings = server_settings(tmp_path)
    async with start_api(settings, pipeline) as api:
        person = await api.create_person("Before covers")
        first, second = [(await api.enrol(person, photo))["id"] for photo in ANGELINA[:2]]
    with sqlite3.connect(tmp_path / "faces.sqlite3") as db:  # the person table as the release before made it
        db.execute("ALTER TABLE person DROP COLUMN cover_face_id")
    async with start_api(settings, pipeline) as api:
        cover = "query($p: ID!) { person(id: $p) { coverFace { id } } }"
        assert (await api.ok(cover, p=person))["person"]["coverFace"]["id"] == first
        chosen = "mutation($p: ID!, $f: ID) { updatePerson(id: $p, input: {coverFaceId: $f}) { coverFace { id } } }"
        assert (await api.ok(chosen, p=person, f=second))["updatePerson"]["coverFace"]["id"] == second
        verify = "query($p: ID!, $b: String!) { verifyPerson(personId: $p, image: {base64: $b}) { match } }"
        assert (await api.ok(verify, p=person, b=b64(ANGELINA[2])))["verifyPerson"]["match"] is True
