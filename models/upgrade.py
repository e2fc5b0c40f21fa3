"""Bring an SQLite file made by an earlier release up to the current tables, then make what is missing.

On SQLite the server makes its own tables (`generate_schemas`), which creates
missing tables but never alters existing ones. Two changes since the first
release need more than that, and both are done here, idempotently:

- nullable columns added to `face` (quality, a re-embedding job's next embedding), `api_key` (its
  collections) and `person` (its cover face): ALTER TABLE ADD COLUMN;
- collections: `person` gains a non-null `collection_id` and its externalId becomes
  unique per collection instead of server-wide, which SQLite can only do by making
  the table again. The old table is renamed aside, `generate_schemas` makes the new
  one, and the rows are copied into the `default` collection; `face` gains
  `collection_id` as a column. A start that stops half-way finishes on the next.

PostgreSQL never takes this path: its tables change only through the Aerich
migrations of migrations/ (`make migrate`, models/migrate.py).
"""

from __future__ import annotations

import logging

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient

from models.tables import DEFAULT_COLLECTION_ID, DEFAULT_COLLECTION_NAME, Collection

log = logging.getLogger(__name__)

# Columns added after the first release: name -> SQL type (every one nullable).
ADDED_FACE_COLUMNS = {
    "inter_eye_px": "DOUBLE PRECISION",
    "sharpness": "DOUBLE PRECISION",
    "yaw_deg": "DOUBLE PRECISION",
    "roll_deg": "DOUBLE PRECISION",
    # reembedCollection's embedding by the next model (the `job` table is new: generate_schemas makes it)
    "next_model": "VARCHAR(100)",
    "next_embedding": "BLOB",
    "next_detector": "VARCHAR(20)",
}
ADDED_API_KEY_COLUMNS = {"collections": "JSON"}  # null: every collection, as every key saw before
ADDED_PERSON_COLUMNS = {"cover_face_id": "CHAR(36)"}  # null: the oldest face is shown
# A person table from before collections is made again whole (below), with these columns already in it.
ADDED_COLUMNS = {"face": ADDED_FACE_COLUMNS, "api_key": ADDED_API_KEY_COLUMNS, "person": ADDED_PERSON_COLUMNS}
# Indexes added after the first release: name -> (table, column).
ADDED_INDEXES = {"face_image_sha256": ("face", "image_sha256")}  # SAME_IMAGE_ENROLLED looks photos up by hash
PERSONS_BEFORE_COLLECTIONS = "person_before_collections"  # the old person table while its rows are copied
PERSON_COLUMNS = "id, name, external_id, metadata, created_at, updated_at"  # what both person tables share


async def _columns(connection: BaseDBAsyncClient, table: str) -> set[str]:
    rows = await connection.execute_query_dict(f"PRAGMA table_info({table})")
    return {row["name"] for row in rows}


async def _tables(connection: BaseDBAsyncClient) -> set[str]:
    rows = await connection.execute_query_dict("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {row["name"] for row in rows}


async def _add_columns(connection: BaseDBAsyncClient, table: str, columns: dict[str, str]) -> list[str]:
    """Add those of `columns` (name -> SQL type, all nullable) that `table` lacks; the ones added."""
    present = await _columns(connection, table)
    if table == "person" and "collection_id" not in present:
        return []  # made again whole, see upgrade_sqlite
    missing = [name for name in columns if name not in present]
    for name in missing:
        await connection.execute_script(f"ALTER TABLE {table} ADD COLUMN {name} {columns[name]} NULL")
    return [f"{table}.{name}" for name in missing]


async def upgrade_sqlite() -> list[str]:
    """Upgrade an older file's tables and make the missing ones; what was changed (empty for a current file)."""
    connection = Tortoise.get_connection("default")
    changed: list[str] = []
    tables = await _tables(connection)
    for table, columns in ADDED_COLUMNS.items():
        if table in tables:
            changed += await _add_columns(connection, table, columns)
    if "face" in tables and "collection_id" not in await _columns(connection, "face"):
        # SQLite adds a column with REFERENCES only when its default is NULL: the copy below fills it.
        await connection.execute_script(
            'ALTER TABLE face ADD COLUMN collection_id CHAR(36) NULL REFERENCES "collection" (id) ON DELETE CASCADE'
        )
        changed.append("face.collection_id")
    if "person" in tables and "collection_id" not in await _columns(connection, "person"):
        # The rename must not rewrite face's reference to `person` (it is to name the new table): SQLite leaves
        # references alone only with both the legacy rename and foreign keys off.
        await connection.execute_script(
            "PRAGMA foreign_keys = OFF; PRAGMA legacy_alter_table = ON; "
            f"ALTER TABLE person RENAME TO {PERSONS_BEFORE_COLLECTIONS}; "
            "PRAGMA legacy_alter_table = OFF; PRAGMA foreign_keys = ON"
        )
        tables.add(PERSONS_BEFORE_COLLECTIONS)
    await Tortoise.generate_schemas(safe=True)
    for name, (table, column) in ADDED_INDEXES.items():
        await connection.execute_script(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column})")
    if PERSONS_BEFORE_COLLECTIONS in tables:
        await _move_into_default_collection(connection)
        changed.append("person.collection_id")
    if changed:
        log.info("database upgraded: %s", ", ".join(changed))
    return changed


async def _move_into_default_collection(connection: BaseDBAsyncClient) -> None:
    """Copy the persons of the old table into the default collection, and point every face at it."""
    default = str(DEFAULT_COLLECTION_ID)  # as Tortoise keeps a UUID in SQLite: its text
    model_rows = await connection.execute_query_dict(
        "SELECT model FROM face GROUP BY model ORDER BY count(*) DESC LIMIT 1"
    )
    if not await Collection.filter(id=DEFAULT_COLLECTION_ID).exists():
        await Collection.create(
            id=DEFAULT_COLLECTION_ID, name=DEFAULT_COLLECTION_NAME, model=model_rows[0]["model"] if model_rows else ""
        )
    # foreign_keys off: dropping the old table must not cascade to the faces that now point at the new one.
    await connection.execute_script(
        "PRAGMA foreign_keys = OFF; BEGIN; "
        f"INSERT OR IGNORE INTO person (collection_id, {PERSON_COLUMNS}) "
        f"SELECT '{default}', {PERSON_COLUMNS} FROM {PERSONS_BEFORE_COLLECTIONS}; "
        f"DROP TABLE {PERSONS_BEFORE_COLLECTIONS}; "
        f"UPDATE face SET collection_id = '{default}' WHERE collection_id IS NULL; "
        "COMMIT; PRAGMA foreign_keys = ON"
    )


async def adopt_models(loaded: list[str]) -> None:
    """The default collection exists, and every collection is pinned to a model this server loads.

    Both SQLite and PostgreSQL (whose migration makes the default collection) come through
    here at start. A collection pinned to a model no longer loaded (EMBEDDER changed, or one
    dropped from EMBEDDERS) moves to the default model, `loaded[0]`; its faces of the model
    before stay unsearched until reembedCollection (or reembedFaces) carries them.
    """
    default = loaded[0]
    await Collection.get_or_create(
        id=DEFAULT_COLLECTION_ID, defaults={"name": DEFAULT_COLLECTION_NAME, "model": default}
    )
    if repinned := await Collection.exclude(model__in=loaded).update(model=default):
        log.warning("%d collection(s) were pinned to a model this server does not load: now %s", repinned, default)
