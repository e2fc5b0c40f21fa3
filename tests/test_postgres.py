"""PostgreSQL specifics: migrations, the pgvector backend, and copying an SQLite gallery over.

(The rest of the API suite runs on PostgreSQL too: the `settings` fixture is parametrized.)
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from tortoise import Tortoise

from devdata.postgres import LocalPostgres
from models.migrate import NotMigrated, migration_files
from search.pgvector import index_name
from tests.helpers import ANGELINA, COUPLE, b64, migrate, migrated_database, server_settings, start_api

VERIFY = """query($b: String!, $exact: Boolean!) {
  verifyLinear(image: {base64: $b}, exact: $exact, limit: 3) {
    match searched best { distance person { name } } candidates { distance face { id } } } }"""
DUMP = """{ persons(first: 20) { edges { node { id name externalId metadata createdAt updatedAt
  faces { id createdAt imageSha256 cropJpegBase64 box { x y width height } } } } } }"""


async def test_an_unmigrated_database_stops_start_up_with_a_clear_message(postgres: LocalPostgres, tmp_path, pipeline):
    url = postgres.create_database("not_migrated")
    with pytest.raises(NotMigrated, match=r"not migrated: \d+ migration\(s\) pending .*Run `make migrate`"):
        async with start_api(server_settings(tmp_path, database_url=url), pipeline):
            pass


def test_migrating_twice_is_harmless_and_makes_the_vector_column(postgres: LocalPostgres):
    url = migrated_database(postgres)
    again = subprocess.run(
        [sys.executable, "-m", "cli.database", "migrate"],
        env={"DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=True,
    )
    assert again.stdout.strip() == "already up to date"
    database = url.rsplit("/", 1)[1]
    column = postgres.psql(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'face'::regclass AND attname = 'embedding'",
        database,
    )
    assert column.strip() == "vector"
    applied = postgres.psql("SELECT version FROM aerich", database).split()
    assert applied == migration_files()
    assert postgres.psql("SELECT tgname FROM pg_trigger WHERE tgname = 'face_changed'", database).strip()


async def test_pgvector_search_answers_as_the_memory_search_does(postgres: LocalPostgres, tmp_path, pipeline):
    url = migrated_database(postgres)
    answers = {}
    for backend in ("memory", "pgvector"):
        # HNSW_MIN_FACES=0: `exact: false` goes through the HNSW index, small as the gallery is.
        settings = server_settings(tmp_path / backend, database_url=url, search_backend=backend, hnsw_min_faces=0)
        async with start_api(settings, pipeline) as api:
            if backend == "memory":
                await api.enrol_celebrities(3)
                alice = await api.create_person("Angelina")
                for photo in ANGELINA[:2]:
                    await api.enrol(alice, photo)
            else:
                present = await Tortoise.get_connection("default").execute_query_dict(
                    "SELECT to_regclass($1) IS NOT NULL AS ok", [index_name(api.services.model_id)]
                )
                assert present == [{"ok": True}]  # built at start
            for exact in (True, False):
                for photo in (ANGELINA[2], COUPLE):
                    answers[backend, exact, photo] = (await api.ok(VERIFY, b=b64(photo), exact=exact))["verifyLinear"]
    for photo in (ANGELINA[2], COUPLE):
        memory = answers["memory", True, photo]
        assert memory["match"] and memory["best"]["person"]["name"] == "Angelina"
        assert memory["searched"] == 5 * 3 + 2
        for exact in (True, False):
            found = answers["pgvector", exact, photo]
            assert [c["face"]["id"] for c in found["candidates"]] == [c["face"]["id"] for c in memory["candidates"]]
            assert [c["distance"] for c in found["candidates"]] == pytest.approx(
                [c["distance"] for c in memory["candidates"]], abs=1e-5
            )
            assert found["searched"] == memory["searched"]


def copy_database(data_dir: Path, url: str) -> subprocess.CompletedProcess[str]:
    """`python -m cli.database copy` (make copy-db): the SQLite file of `data_dir` into `url`."""
    command = [sys.executable, "-m", "cli.database", "copy", "--to", url]
    return subprocess.run(command, env={"DATA_DIR": str(data_dir)}, capture_output=True, text=True)


async def test_an_sqlite_gallery_copies_to_postgres_with_its_ids_times_and_keys(
    postgres: LocalPostgres, tmp_path, pipeline
):
    sqlite_settings = server_settings(tmp_path / "sqlite")
    async with start_api(sqlite_settings, pipeline) as api:
        await api.enrol_celebrities(2)
        reader = await api.new_key("READ", "VERIFY", name="kept across the copy")
        before = await api.ok(DUMP)
        probe = (await api.ok(VERIFY, b=b64(ANGELINA[2]), exact=True))["verifyLinear"]

    url = postgres.create_database("copy_target")
    migrate(url)
    copied = await asyncio.to_thread(copy_database, sqlite_settings.data_dir, url)
    assert copied.returncode == 0, copied.stderr
    assert copied.stdout.startswith("1 collection, 5 person, 10 face, 2 api_key, "), (
        copied.stdout
    )  # progress went to stderr

    async with start_api(server_settings(tmp_path / "postgres", database_url=url), pipeline) as api:
        assert await api.ok(DUMP) == before
        assert (await api.ok(VERIFY, b=b64(ANGELINA[2]), exact=True))["verifyLinear"] == probe
        assert "errors" not in await api.as_key(reader).raw("{ persons { totalCount } }")

    # A second copy into the same database is refused: it is no longer empty.
    again = await asyncio.to_thread(copy_database, sqlite_settings.data_dir, url)
    assert again.returncode != 0 and "copy into an empty database" in again.stderr
