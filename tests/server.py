"""A real server process for tests: `faceid serve` on a free port, with its own data directory (devdata.server)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devdata.server import ROOT, ServerProcess, running

__all__ = ["ROOT", "Server", "enrolled_person", "faceid", "running_server"]

Server = ServerProcess


@contextmanager
def running_server(data_dir: Path, **env: str) -> Iterator[Server]:
    """The server (`faceid serve`, which runs what `python app.py` runs) on a free port; stopped on exit."""
    server = ServerProcess(data_dir, {"RATE_LIMIT_ENROL": "100000/minute", **env}, command=("-m", "cli.main", "serve"))
    with running(server):
        yield server


def enrolled_person(
    server: Server, name: str, photo: Path, collection: str | None = None, allow_low_quality: bool = False
) -> str:
    """A new person of the collection (None: the default) with one face from `photo`; its id."""
    person = server.graphql(
        "mutation($n: String!, $c: ID) { createPerson(input: {name: $n}, collection: $c) { id } }", n=name, c=collection
    )
    assert "errors" not in person, person
    person_id: str = person["data"]["createPerson"]["id"]
    enrolled = server.graphql(
        "mutation($p: ID!, $i: String!, $low: Boolean!) "
        "{ createFace(personId: $p, image: {base64: $i}, allowLowQuality: $low) { id } }",
        p=person_id,
        low=allow_low_quality,
        i=base64.b64encode(photo.read_bytes()).decode("ascii"),
    )
    assert "errors" not in enrolled, enrolled
    return person_id


def faceid(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    """The `faceid` command against `server`, with the admin key its first start wrote (or its ADMIN_API_KEY)."""
    env = {**os.environ, "FACEID_URL": server.url, "DATA_DIR": str(server.data_dir)}
    env.pop("FACEID_API_KEY", None)
    if "ADMIN_API_KEY" in server.env:
        env["FACEID_API_KEY"] = server.env["ADMIN_API_KEY"]
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
