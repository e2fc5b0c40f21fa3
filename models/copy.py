"""Copy a whole gallery from one database to another (`make copy-db`, `python -m cli.database copy --to ...`).

The way from the SQLite file of a single server to PostgreSQL for replicas: every
person, face (embedding and crop), API key and audit entry, with ids and times
kept, so that clients' stored ids and keys keep working. The target must be
migrated (`make migrate`) and empty.
"""

from __future__ import annotations

from typing import Any

import click
from rich.progress import Progress
from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model
from tortoise.transactions import in_transaction

from models.db import database_config
from models.migrate import pending_migrations
from models.tables import DEFAULT_COLLECTION_ID, ApiKey, AuditEntry, Collection, Face, Person

# Each table before those that point at it: collections, persons, faces.
TABLES: list[type[Model]] = [Collection, Person, Face, ApiKey, AuditEntry]
CHUNK = 2_000


class CopyRefused(click.ClickException):
    """The target is not ready for a copy (not migrated, or not empty)."""


def copy_config(source: str, target: str) -> dict[str, Any]:
    config = database_config(target)  # the models' default connection is the target
    config["connections"]["source"] = source
    return config


async def _rows(model: type[Model], source: BaseDBAsyncClient) -> Any:
    """The table's rows in id order, a chunk at a time."""
    last = None
    while True:
        query = model.all().using_db(source).order_by("id").limit(CHUNK)
        rows = await (query if last is None else query.filter(id__gt=last))
        if not rows:
            return
        yield rows
        last = rows[-1].pk


async def _insert(model: type[Model], rows: list[Model]) -> None:
    async with in_transaction("default") as target:
        # The ORM stamps auto_now fields (the instances too) on every write: restore the source's times in SQL.
        stamps = [[row.updated_at, str(row.pk)] for row in rows if isinstance(row, Person | Collection)]
        for row in rows:
            row._saved_in_db = False  # read from the source: new to the target
        await model.bulk_create(rows, using_db=target)
        if stamps:
            first, second = ("$1", "$2") if target.capabilities.dialect == "postgres" else ("?", "?")
            table = model._meta.db_table
            await target.execute_many(f"UPDATE {table} SET updated_at = {first} WHERE id = {second}", stamps)


async def copy_database(source: str, target: str, progress: Progress | None = None) -> dict[str, int]:
    """Copy every table; rows copied per table."""
    await Tortoise.init(config=copy_config(source, target))
    try:
        if pending := await pending_migrations():
            raise CopyRefused(f"the target is not migrated ({', '.join(pending)} pending): run `make migrate` first")
        for model in TABLES:
            # `make migrate` makes the default collection: the source's takes its place.
            rows = model.all() if model is not Collection else Collection.exclude(id=DEFAULT_COLLECTION_ID)
            if await rows.count():
                raise CopyRefused(f"the target already has rows in {model._meta.db_table}: copy into an empty database")
        await Collection.filter(id=DEFAULT_COLLECTION_ID).delete()
        source_connection = Tortoise.get_connection("source")
        copied = {}
        for model in TABLES:
            table = model._meta.db_table
            total = await model.all().using_db(source_connection).count()
            task = None if progress is None else progress.add_task(table, total=total)
            copied[table] = 0
            async for rows in _rows(model, source_connection):
                await _insert(model, rows)
                copied[table] += len(rows)
                if progress is not None and task is not None:
                    progress.advance(task, len(rows))
        return copied
    finally:
        await Tortoise.close_connections()
