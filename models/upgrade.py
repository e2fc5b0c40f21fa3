"""Bring an SQLite file made by an earlier release up to the current tables.

On SQLite the server makes its own tables (`generate_schemas`), which creates
missing tables but never alters existing ones. The only change since the first
release is nullable columns added to `face`; this adds those that are missing,
idempotently. PostgreSQL never takes this path: its tables change only through the
Aerich migrations of migrations/ (`make migrate`, models/migrate.py).
"""

from __future__ import annotations

import logging

from tortoise import Tortoise

log = logging.getLogger(__name__)

# Columns added after the first release: name -> SQL type (every one nullable).
ADDED_FACE_COLUMNS = {
    "inter_eye_px": "DOUBLE PRECISION",
    "sharpness": "DOUBLE PRECISION",
    "yaw_deg": "DOUBLE PRECISION",
    "roll_deg": "DOUBLE PRECISION",
}


async def _face_columns() -> set[str]:
    connection = Tortoise.get_connection("default")
    if connection.capabilities.dialect == "sqlite":
        rows = await connection.execute_query_dict("PRAGMA table_info(face)")
        return {row["name"] for row in rows}
    rows = await connection.execute_query_dict(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'face'"
    )
    return {row["column_name"] for row in rows}


# Indexes added after the first release: name -> (table, column).
ADDED_INDEXES = {"face_image_sha256": ("face", "image_sha256")}  # SAME_IMAGE_ENROLLED looks photos up by hash


async def add_missing_columns() -> list[str]:
    """Add the columns an older `face` table lacks, and the later indexes; the column names added."""
    connection = Tortoise.get_connection("default")
    for name, (table, column) in ADDED_INDEXES.items():
        await connection.execute_script(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column})")
    missing = [name for name in ADDED_FACE_COLUMNS if name not in await _face_columns()]
    for name in missing:
        await connection.execute_script(f"ALTER TABLE face ADD COLUMN {name} {ADDED_FACE_COLUMNS[name]} NULL")
    if missing:
        log.info("database upgraded: added face columns %s", ", ".join(missing))
    return missing
