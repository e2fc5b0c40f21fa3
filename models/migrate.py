"""Schema migrations with Aerich, for PostgreSQL: `make migrate` (`python -m cli.database migrate`).

The migration files live in migrations/models/. A server on PostgreSQL refuses to
start while any of them is not applied (check_migrated), so that code and tables
never disagree. SQLite needs none of this: the server creates and upgrades its
file itself (models/upgrade.py), so that `make run` works out of the box.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aerich import Command
from tortoise import Tortoise

from models.db import database_config

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
APP = "models"


class NotMigrated(RuntimeError):
    """The database lacks migrations that this code needs."""


def migration_config(url: str) -> dict[str, Any]:
    """The Tortoise config plus Aerich's own table, which records the migrations applied."""
    config = database_config(url)
    config["apps"][APP]["models"] = [*config["apps"][APP]["models"], "aerich.models"]
    return config


def migration_files() -> list[str]:
    """The migrations this code ships, oldest first ('0_20261128_init.py', ...)."""
    files = [path.name for path in (MIGRATIONS / APP).glob("*.py") if path.stem.split("_")[0].isdigit()]
    return sorted(files, key=lambda name: int(name.split("_")[0]))


async def pending_migrations() -> list[str]:
    """Migrations not yet applied to the default connection's database."""
    connection = Tortoise.get_connection("default")
    exists = await connection.execute_query_dict("SELECT to_regclass('aerich') IS NOT NULL AS present")
    applied: set[str] = set()
    if exists[0]["present"]:
        rows = await connection.execute_query_dict("SELECT version FROM aerich WHERE app = $1", [APP])
        applied = {row["version"] for row in rows}
    return [name for name in migration_files() if name not in applied]


async def check_migrated() -> None:
    if pending := await pending_migrations():
        raise NotMigrated(
            f"the PostgreSQL database is not migrated: {len(pending)} migration(s) pending ({', '.join(pending)}). "
            "Run `make migrate` (python -m cli.database migrate) with the same DATABASE_URL, then start the server "
            "again."
        )


async def migrate(url: str) -> list[str]:
    """Apply every pending migration, each in its own transaction; the files applied."""
    async with Command(tortoise_config=migration_config(url), app=APP, location=str(MIGRATIONS)) as command:
        await command.init()
        return await command.upgrade(run_in_transaction=True)
