"""`python -m cli.database backup`: a consistent copy of a running server's SQLite gallery that restores."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.helpers import ANGELINA
from tests.server import ROOT, enrolled_person, running_server


def backup(data_dir: Path, target: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DATA_DIR": str(data_dir), **env}
    command = [sys.executable, "-m", "cli.database", "backup", str(target)]
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)


def test_a_backup_of_a_running_server_restores_its_gallery(tmp_path: Path) -> None:
    copy = tmp_path / "backup" / "faces.sqlite3"
    copy.parent.mkdir()
    with running_server(tmp_path / "live") as server:
        person = enrolled_person(server, "Angelina", ANGELINA[0])
        made = backup(server.data_dir, copy)
        assert made.returncode == 0, made.stderr
        assert f"backed up to {copy}" in made.stdout
        again = backup(server.data_dir, copy)  # never over an existing file
        assert again.returncode != 0 and "exists" in again.stderr
    assert oct(copy.stat().st_mode & 0o777) == "0o600"
    with sqlite3.connect(copy) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    # Restored: the backup is the gallery of a new data folder; the keys are in it, so the old admin
    # key (the file the first start wrote, which ServerProcess reads) opens it.
    (copy.parent / "admin-api-key").write_text(server.key)
    with running_server(copy.parent) as restored:
        answer = restored.graphql("query($p: ID!) { person(id: $p) { name faceCount } }", p=person)
        assert answer["data"]["person"] == {"name": "Angelina", "faceCount": 1}


def test_backup_refuses_postgresql_and_a_missing_gallery(tmp_path: Path) -> None:
    on_postgres = backup(tmp_path, tmp_path / "x.sqlite3", DATABASE_URL="postgres://faceid@127.0.0.1:1/faceid")
    assert on_postgres.returncode != 0 and "pg_dump" in on_postgres.stderr
    missing = backup(tmp_path / "empty", tmp_path / "x.sqlite3")
    assert missing.returncode != 0 and "no SQLite database" in missing.stderr
    assert not (tmp_path / "x.sqlite3").exists()
