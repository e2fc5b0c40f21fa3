"""A real server process for tests: `python app.py` on a free port, with its own data directory."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 240


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    port: int
    data_dir: Path
    process: subprocess.Popen[bytes]
    key: str = ""

    def graphql(self, query: str, key: str | None = None, **variables: object) -> dict:
        response = httpx.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {key or self.key}"},
            timeout=120,
        )
        return response.json()


@contextmanager
def running_server(data_dir: Path, **env: str) -> Iterator[Server]:
    """The server (`faceid serve`) on a free port; stopped (or found killed) on exit."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    environment = {
        **{name: value for name, value in os.environ.items() if name != "ADMIN_API_KEY"},
        "DATA_DIR": str(data_dir),
        "PORT": str(port),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "RATE_LIMIT_ENROL": "100000/minute",
        **env,
    }
    log = open(data_dir / f"server-{port}.log", "wb")  # noqa: SIM115  # closed below
    # `faceid serve`, which runs what `python app.py` (make run) runs.
    command = [sys.executable, "-m", "cli.main", "serve"]
    process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=log)
    server = Server(f"http://127.0.0.1:{port}", port, data_dir, process)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert process.poll() is None, (data_dir / f"server-{port}.log").read_text()[-3000:]
            try:
                if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.5)
        server.key = env.get("ADMIN_API_KEY") or (data_dir / "admin-api-key").read_text().strip()
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()
