"""The operator's database commands: run beside the database, not over the API (`make migrate`, `make copy-db`).

    python -m cli.database migrate                    # apply migrations/ to DATABASE_URL (PostgreSQL)
    python -m cli.database copy --to postgres://...   # copy the SQLite gallery of DATA_DIR there
    python -m cli.database backup FILE                # a consistent copy of that gallery, server running

Like `faceid serve`, these read the server's own settings; the rest of cli/ only talks HTTP.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import click
from rich.console import Console
from rich.progress import Progress

from models.backup import backup_sqlite
from models.copy import copy_database
from models.migrate import migrate as apply_migrations
from settings import Settings


@click.group()
def database() -> None:
    """Migrate or copy the server's database."""


@database.command()
def migrate() -> None:
    """Apply every pending migration to DATABASE_URL (PostgreSQL; SQLite needs none)."""
    settings = Settings.from_env()
    if not settings.on_postgres:
        raise click.ClickException("DATABASE_URL is not PostgreSQL; SQLite needs no migrations")
    applied = asyncio.run(apply_migrations(settings.database_url))
    click.echo(f"applied {len(applied)} migration(s): {', '.join(applied)}" if applied else "already up to date")


@database.command()
@click.option(
    "--from", "source", envvar="COPY_FROM", help="Source DATABASE_URL (default: the SQLite file in DATA_DIR)."
)
@click.option("--to", "target", envvar="DATABASE_URL", required=True, help="Target DATABASE_URL (migrated, empty).")
def copy(source: str | None, target: str) -> None:
    """Copy every person, face, API key and audit entry to another database."""
    # The SQLite file that `make run` uses, whatever DATABASE_URL (the target) says.
    source = source or Settings.from_env().model_copy(update={"database_url": ""}).resolved_database_url
    with Progress(console=Console(stderr=True)) as progress:
        copied = asyncio.run(copy_database(source, target, progress))
    click.echo(", ".join(f"{count} {table}" for table, count in copied.items()) + " copied")


@database.command()
@click.argument("target", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def backup(target: Path) -> None:
    """Write a consistent copy of the SQLite gallery of DATA_DIR to TARGET (a new file), while the server runs."""
    settings = Settings.from_env()
    if settings.on_postgres:
        raise click.ClickException("DATABASE_URL is PostgreSQL: back it up with pg_dump or your database's snapshots")
    try:
        size = backup_sqlite(settings.sqlite_file, target)
    except (FileNotFoundError, FileExistsError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{settings.sqlite_file} backed up to {target} ({size / 1e6:.1f} MB)")


if __name__ == "__main__":
    database()
