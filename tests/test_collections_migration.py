"""A database made before collections is brought into the `default` collection and answers as before.

The old tables are the ones the release before collections made: on SQLite its schema as
that code's `generate_schemas` wrote it (tests/old_schemas/sqlite-before-collections.sql), on
PostgreSQL the first Aerich migration alone. They are filled with a real gallery (the
same rows, embeddings and crops a server enrolled), upgraded the way each is upgraded
(the server's own start on SQLite, `make migrate` on PostgreSQL), and asked the
queries clients sent before: the answers must be the same.
"""

from __future__ import annotations

import importlib
import json
import sqlite3
from datetime import datetime
from pathlib import Path

import asyncpg
import numpy as np
import pytest
from aerich.utils import decompress_dict

import devdata
from devdata.postgres import LocalPostgres
from models import DEFAULT_COLLECTION_ID
from models.migrate import migration_files
from tests.helpers import ANGELINA, Api, b64, migrate, server_settings, start_api

OLD_SCHEMA = Path(__file__).with_name("old_schemas") / "sqlite-before-collections.sql"
# What the release before collections had: its tables' columns, in the order of OLD_SCHEMA.
OLD_COLUMNS = {
    "person": ["id", "name", "external_id", "metadata", "created_at", "updated_at"],
    "face": [
        "id", "embedding", "model", "box_x", "box_y", "box_width", "box_height", "detection_score", "detector",
        "inter_eye_px", "sharpness", "yaw_deg", "roll_deg", "crop_jpeg", "image_sha256", "created_at", "person_id",
    ],
}  # fmt: skip
OLD_QUERIES = [
    ("{ persons { totalCount edges { node { id name externalId metadata createdAt updatedAt faceCount } } } }", {}),
    ("{ faces { totalCount edges { node { id personId model box { x y } quality { sharpness } imageSha256 } } } }", {}),
    (
        "query($b: String!) { verifyLinear(image: {base64: $b}) { match searched best { distance person { id } } } }",
        {"b": b64(ANGELINA[2])},
    ),
    (
        "query($b: String!) { recognizeFaces(image: {base64: $b}) { match best { person { name } } } }",
        {"b": b64(devdata.DEEPFACE / "couple.jpg")},
    ),
]


def to_six_places(answer: object) -> object:
    """Distances to six places, float32's precision, which they are computed in: the gallery's matrix, loaded
    afresh from the copied file, may sum a dot product in another order and move the last bits."""
    if isinstance(answer, dict):
        return {key: to_six_places(value) for key, value in answer.items()}
    if isinstance(answer, list):
        return [to_six_places(value) for value in answer]
    return round(answer, 6) if isinstance(answer, float) else answer


async def answers_of(api: Api, person: str) -> list[object]:
    verify = "query($p: ID!, $b: String!) { verifyPerson(personId: $p, image: {base64: $b}) { match searched } }"
    found = [await api.ok(query, **variables) for query, variables in OLD_QUERIES]
    answers = [*found, await api.ok(verify, p=person, b=b64(ANGELINA[2]))]
    return [to_six_places(answer) for answer in answers]


@pytest.fixture(scope="module")
async def source(tmp_path_factory: pytest.TempPathFactory, pipeline) -> tuple[Path, str, list[object]]:
    """A gallery enrolled by a server (its SQLite file), one person's id, and the old queries' answers."""
    folder = tmp_path_factory.mktemp("source")
    async with start_api(server_settings(folder), pipeline) as api:
        angelina = await api.create_person("Angelina", externalId="angelina", metadata={"team": "blue"})
        for photo in ANGELINA[:2]:
            await api.enrol(angelina, photo)
        madonna = await api.create_person("Madonna", externalId="madonna")
        await api.enrol(madonna, devdata.celebrity_photos("train")["madonna"][0])
        return folder / "faces.sqlite3", angelina, await answers_of(api, angelina)


def old_rows(path: Path, table: str) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute(f"SELECT {', '.join(OLD_COLUMNS[table])} FROM {table} ORDER BY created_at").fetchall()


async def test_an_sqlite_file_from_before_collections_answers_as_before(source, tmp_path, pipeline):
    enrolled, angelina, before = source
    with sqlite3.connect(tmp_path / "faces.sqlite3") as db:
        db.executescript(OLD_SCHEMA.read_text())
        for table, columns in OLD_COLUMNS.items():
            marks = ", ".join("?" * len(columns))
            db.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", old_rows(enrolled, table))
    async with start_api(server_settings(tmp_path), pipeline) as api:
        assert await answers_of(api, angelina) == before
        persons = (await api.ok("{ persons { edges { node { collectionId } } } }"))["persons"]["edges"]
        assert {edge["node"]["collectionId"] for edge in persons} == {str(DEFAULT_COLLECTION_ID)}
        # The externalId is now unique per collection: another collection takes the same one.
        other = (await api.ok('mutation { createCollection(input: {name: "other"}) { id } }'))["createCollection"]
        made = 'mutation($c: ID) { createPerson(input: {name: "A", externalId: "angelina"}, collection: $c) { id } }'
        await api.ok(made, c=other["id"])
    with sqlite3.connect(tmp_path / "faces.sqlite3") as db:
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        assert db.execute("SELECT count(*) FROM face WHERE collection_id IS NULL").fetchone() == (0,)
    async with start_api(server_settings(tmp_path), pipeline) as api:  # upgraded once: a restart changes nothing
        assert await answers_of(api, angelina) == before


async def test_a_postgres_database_from_before_collections_migrates_and_answers_as_before(
    source, postgres: LocalPostgres, tmp_path, pipeline
):
    enrolled, angelina, before = source
    url = postgres.create_database("before_collections")
    await _apply_first(url)
    connection = await asyncpg.connect(url)
    try:
        for table, columns in OLD_COLUMNS.items():
            rows = old_rows(enrolled, table)
            if table == "face":  # pgvector takes its text form; SQLite holds float32 bytes
                at = columns.index("embedding")
                rows = [(*row[:at], str(np.frombuffer(row[at], "<f4").tolist()), *row[at + 1 :]) for row in rows]
            casts = {"id": "::uuid", "person_id": "::uuid", "metadata": "::jsonb", "embedding": "::vector"}
            values = ", ".join(f"${i}{casts.get(column, '')}" for i, column in enumerate(columns, start=1))
            await connection.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})", [_typed(row, columns) for row in rows]
            )
    finally:
        await connection.close()
    migrate(url)
    async with start_api(server_settings(tmp_path, database_url=url), pipeline) as api:
        assert await answers_of(api, angelina) == before


async def _apply_first(url: str) -> None:
    """The database as the release before collections left it: the first Aerich migration applied, recorded."""
    first = migration_files()[0]
    module = importlib.import_module(f"migrations.models.{first.removesuffix('.py')}")
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(await module.upgrade(None))
        content = json.dumps(decompress_dict(module.MODELS_STATE))
        await connection.execute(
            "INSERT INTO aerich (version, app, content) VALUES ($1, 'models', $2::jsonb)", first, content
        )
    finally:
        await connection.close()


def _typed(row: tuple, columns: list[str]) -> tuple:
    """SQLite's text back into what asyncpg sends for each column."""
    out = []
    for value, column in zip(row, columns, strict=True):
        if column.endswith("_at") and isinstance(value, str):
            value = datetime.fromisoformat(value)
        elif column in ("id", "person_id", "metadata") and value is not None:
            value = str(value)
        out.append(value)
    return tuple(out)
