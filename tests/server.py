"""A real server process for tests: `faceid serve` on a free port, with its own data directory (devdata.server)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devdata.server import ROOT, ServerProcess, running

__all__ = ["ROOT", "Server", "running_server"]

Server = ServerProcess


@contextmanager
def running_server(data_dir: Path, **env: str) -> Iterator[Server]:
    """The server (`faceid serve`, which runs what `python app.py` runs) on a free port; stopped on exit."""
    server = ServerProcess(data_dir, {"RATE_LIMIT_ENROL": "100000/minute", **env}, command=("-m", "cli.main", "serve"))
    with running(server):
        yield server
