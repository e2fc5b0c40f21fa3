"""The real server as a child process, on a free local port with its own data folder: for tests and benchmarks.

It runs what `make run` runs (`python app.py`, or `faceid serve`), is driven over HTTP
from this process, and is stopped with SIGINT (uvicorn's graceful stop), then killed
if it lingers.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 300  # the first start of a fresh venv converts nothing, but loads both models
STOP_TIMEOUT_S = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)  # settings for this server, over the inherited environment
    command: tuple[str, ...] = ("app.py",)  # after `python`: `make run`'s command by default
    port: int = field(default_factory=free_port)
    key: str = ""  # an admin key, once started: ADMIN_API_KEY if given, else the one the first start wrote
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        """The GraphQL endpoint for WebSocket clients (graphql-transport-ws)."""
        return f"ws://127.0.0.1:{self.port}/graphql"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    @property
    def log_path(self) -> Path:
        return self.data_dir / f"server-{self.port}.log"

    def start(self) -> dict[str, Any]:
        """Start it and wait until /healthz answers; its answer."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        inherited = {name: value for name, value in os.environ.items() if name != "ADMIN_API_KEY"}
        environment = inherited | {"DATA_DIR": str(self.data_dir), "PORT": str(self.port), "HOST": "127.0.0.1"}
        environment |= {"TF_CPP_MIN_LOG_LEVEL": "2"} | self.env
        command = [sys.executable, *self.command]
        with self.log_path.open("ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=log)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited:\n{self.log_path.read_text()[-3000:]}")
            with suppress(httpx.HTTPError):
                response = httpx.get(f"{self.url}/healthz", timeout=2)
                if response.status_code == 200:
                    self.key = self.env.get("ADMIN_API_KEY") or (self.data_dir / "admin-api-key").read_text().strip()
                    return dict(response.json())
            time.sleep(0.25)
        self.stop()
        raise TimeoutError(f"the server did not become healthy in {START_TIMEOUT_S} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def graphql(self, query: str, key: str | None = None, **variables: object) -> dict[str, Any]:
        response = httpx.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {key or self.key}"},
            timeout=120,
        )
        return dict(response.json())

    def rss_mb(self) -> float:
        import psutil  # the benchmarks' extra (pyproject's `bench`)

        assert self.process is not None
        return float(psutil.Process(self.process.pid).memory_info().rss / 2**20)


@contextmanager
def running(server: ServerProcess) -> Iterator[dict[str, Any]]:
    """The server started (its /healthz answer), and stopped on exit."""
    health = server.start()
    try:
        yield health
    finally:
        server.stop()
