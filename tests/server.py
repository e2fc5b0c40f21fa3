"""A real server process for tests: `faceid serve` on a free port, with its own data directory (devdata.server)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devdata.server import ROOT, ServerProcess, running

__all__ = ["ROOT", "Server", "enrolled_person", "running_server"]

Server = ServerProcess


@contextmanager
def running_server(data_dir: Path, **env: str) -> Iterator[Server]:
    """The server (`faceid serve`, which runs what `python app.py` runs) on a free port; stopped on exit."""
    server = ServerProcess(data_dir, {"RATE_LIMIT_ENROL": "100000/minute", **env}, command=("-m", "cli.main", "serve"))
    with running(server):
        yield server


def enrolled_person(server: Server, name: str, photo: Path, collection: str | None = None) -> str:
    """A new person of the collection (None: the default) with one face from `photo`; its id."""
    person = server.graphql(
        "mutation($n: String!, $c: ID) { createPerson(input: {name: $n}, collection: $c) { id } }", n=name, c=collection
    )
    assert "errors" not in person, person
    person_id: str = person["data"]["createPerson"]["id"]
    enrolled = server.graphql(
        "mutation($p: ID!, $i: String!) { createFace(personId: $p, image: {base64: $i}) { id } }",
        p=person_id,
        i=base64.b64encode(photo.read_bytes()).decode("ascii"),
    )
    assert "errors" not in enrolled, enrolled
    return person_id
