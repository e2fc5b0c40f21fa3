"""A deleted person or collection leaves no copy in SQLite's files (PostgreSQL keeps dead rows until VACUUM).

Its own module: it reads the files of an SQLite app of its own, while no other app runs.
"""

from __future__ import annotations

import base64
import sqlite3

import numpy as np
from tortoise import Tortoise

from models import DEFAULT_COLLECTION_ID
from tests.helpers import ANGELINA, server_settings, start_api


def chunks(data: bytes, size: int = 48) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data) - size + 1, size)]


def database_bytes(api) -> bytes:
    path = api.services.settings.data_dir / "faces.sqlite3"
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


async def test_deleting_a_person_leaves_no_copy_in_the_database_file(tmp_path, pipeline):
    # SQLite's files, read byte for byte (PostgreSQL keeps dead rows until VACUUM: the README says so).
    async with start_api(server_settings(tmp_path), pipeline) as api:
        await _delete_and_look_for_leftovers(api)


async def test_deleting_a_collection_leaves_no_copy_in_the_database_file(tmp_path, pipeline):
    async with start_api(server_settings(tmp_path), pipeline) as api:
        await _delete_and_look_for_leftovers(api, whole_collection=True)


async def _delete_and_look_for_leftovers(api, whole_collection: bool = False) -> None:
    marker = "Unmistakable Name 7f3a9c"
    collection = str(DEFAULT_COLLECTION_ID)
    if whole_collection:
        made = await api.ok('mutation { createCollection(input: {name: "Unmistakable Tenant 4b2e"}) { id } }')
        collection = made["createCollection"]["id"]
    person = await api.ok(
        "mutation($n: String!, $c: ID) { createPerson(input: {name: $n}, collection: $c) { id } }",
        n=marker,
        c=collection,
    )
    person = person["createPerson"]["id"]
    face = await api.enrol(person, ANGELINA[1])
    stored = await api.ok(
        "query($id: ID!) { face(id: $id) { cropJpegBase64 } faceEmbedding(faceId: $id) { vector } }", id=face["id"]
    )
    embedding = np.asarray(stored["faceEmbedding"]["vector"], dtype="<f4").tobytes()
    crop = base64.b64decode(stored["face"]["cropJpegBase64"])
    with sqlite3.connect(api.services.settings.data_dir / "faces.sqlite3") as connection:
        connection.execute("PRAGMA wal_checkpoint(FULL)")
    present = database_bytes(api)
    # A row larger than a page spills onto overflow pages: look for pieces, not the whole.
    # Every JPEG of the same quality shares its first few hundred bytes (headers, tables): skip them.
    pieces = [marker.encode(), *chunks(embedding), *chunks(crop[1000:])]
    if whole_collection:
        pieces.append(b"Unmistakable Tenant 4b2e")
    assert sum(piece in present for piece in pieces) > len(pieces) // 2

    # Set by the server, not left to how SQLite was built (Debian's zeroes by default; others do not).
    pragma = await Tortoise.get_connection("default").execute_query_dict("PRAGMA secure_delete")
    assert pragma == [{"secure_delete": 1}]
    if whole_collection:
        await api.ok("mutation($id: ID!) { deleteCollection(id: $id) { deletedFaces } }", id=collection)
        assert api.gallery.of(collection) is None
    else:
        await api.ok("mutation($id: ID!) { deletePerson(id: $id) { deletedFaces } }", id=person)
    assert face["id"] not in api.gallery and api.gallery.faces_of(person, collection) == []
    left = database_bytes(api)
    assert [piece for piece in pieces if piece in left] == []
