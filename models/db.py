"""Database configuration for Tortoise ORM."""

from __future__ import annotations

import asyncio
from typing import Any

from tortoise import Tortoise


def database_config(url: str) -> dict[str, Any]:
    return {
        "connections": {"default": url},
        "apps": {"models": {"models": ["models.tables"], "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


async def scrub_deleted() -> None:
    """After a delete, leave no copy of the deleted rows in SQLite's files.

    secure_delete (in the default URL) zeroes freed pages in the database file; the
    write-ahead log still holds the pages as they were written, so it is checkpointed
    into the file and truncated. PostgreSQL reclaims dead rows with VACUUM.
    """
    connection = Tortoise.get_connection("default")
    if connection.capabilities.dialect == "sqlite":
        await connection.execute_query("PRAGMA wal_checkpoint(TRUNCATE)")


async def unreachable(timeout_s: float) -> str | None:
    """Why the database does not answer a trivial query within `timeout_s`; None when it does."""
    try:
        await asyncio.wait_for(Tortoise.get_connection("default").execute_query("SELECT 1"), timeout_s)
    except TimeoutError:
        return f"the database did not answer within {timeout_s:g} s"
    except Exception as exc:  # the driver's own errors: connection refused, closed, auth lost...
        return f"the database is unreachable: {type(exc).__name__}: {exc}"
    return None
