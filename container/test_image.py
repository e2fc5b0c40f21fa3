"""The container image, built and run for real with podman: `make image-test` (`.ci/run` calls it).

The base image comes from Debian's packages (container/build-base.sh), the project image from the
Containerfile on it. Then, through HTTP only: a face enrolled and verified on SQLite, found again
after the container is replaced on the same volume; a server with no network at all that still
gets ready; and the compose file's PostgreSQL deployment, run with its own commands and settings
(`make migrate` as a one-shot container, two replicas) against the embedded PostgreSQL on the host
network. Not part of `make test`: building the image takes minutes.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

import devdata
from devdata.postgres import LocalPostgres, local_postgres
from devdata.server import free_port

ROOT = Path(__file__).resolve().parent.parent
STORE = Path(os.environ.get("IMAGE_STORE", "/var/tmp/faceid-podman"))  # podman's images and containers
BASE = "localhost/faceid-base:bookworm"
IMAGE = "localhost/faceid:test"
READY_TIMEOUT_S = 180
STOP_TIMEOUT_S = 10  # podman's default before SIGKILL: tini must pass SIGTERM on well before that

CREATE_PERSON = "mutation($name: String!) { createPerson(input: {name: $name}) { id } }"
CREATE_FACE = "mutation($p: ID!, $b: String!) { createFace(personId: $p, image: {base64: $b}) { id } }"
VERIFY = "query($p: ID!, $b: String!) { verifyPerson(personId: $p, image: {base64: $b}) { match } }"
PERSON = "query($p: ID!) { person(id: $p) { name faceCount } }"


@dataclass(frozen=True)
class Podman:
    """podman with this test's storage and containers.conf (runc, ulimits: container/containers.conf)."""

    root: Path

    def command(self, *args: str) -> list[str]:
        return ["podman", "--root", str(self.root / "root"), "--runroot", str(self.root / "run"), *args]

    def __call__(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(self.command(*args), capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
        return result

    def logs(self, container: str) -> str:
        result = self("logs", container, check=False)
        return (result.stdout + result.stderr)[-4000:]


@pytest.fixture(scope="session")
def podman() -> Podman:
    os.environ["CONTAINERS_CONF"] = str(ROOT / "container" / "containers.conf")
    return Podman(STORE)


@pytest.fixture(scope="session")
def image(podman: Podman) -> str:
    started = time.monotonic()
    environment = os.environ | {"PODMAN": " ".join(podman.command())}
    subprocess.run([str(ROOT / "container" / "build-base.sh"), BASE], check=True, env=environment)
    build = ["build", "--format", "docker", "--build-arg", f"BASE={BASE}", "-t", IMAGE, "-f", "Containerfile", "."]
    subprocess.run(podman.command(*build), check=True, cwd=ROOT, timeout=1500)
    podman("image", "prune", "--force")  # the layers the previous build of the tag left
    size = int(podman("image", "inspect", "--format", "{{.Size}}", IMAGE).stdout)
    print(f"\nimage {IMAGE}: {size / 1e6:.0f} MB, base and build in {time.monotonic() - started:.0f} s")
    return IMAGE


@dataclass
class Server:
    """One running container of the image, reached at `url`."""

    podman: Podman
    name: str
    url: str
    key: str = ""

    def graphql(self, query: str, **variables: object) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.key}"}
        response = httpx.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables}, headers=headers, timeout=60
        )
        body = dict(response.json())
        assert "errors" not in body, body["errors"]
        return dict(body["data"])

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            with suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            state = self.podman("inspect", "--format", "{{.State.Status}}", self.name).stdout.strip()
            assert state == "running", f"{self.name} is {state}:\n{self.podman.logs(self.name)}"
            time.sleep(0.5)
        raise AssertionError(f"{self.name} was not ready in {READY_TIMEOUT_S} s:\n{self.podman.logs(self.name)}")


@contextmanager
def container(podman: Podman, image: str, *args: str, port: int, command: tuple[str, ...] = ()) -> Iterator[Server]:
    """`podman run -d --init` of the image with `args`, ready; removed on exit."""
    name = f"faceid-test-{secrets.token_hex(4)}"
    podman("run", "-d", "--init", "--name", name, *args, image, *command)
    try:
        server = Server(podman, name, f"http://127.0.0.1:{port}")
        server.wait_ready()
        yield server
    finally:
        podman("rm", "--force", "--time", "0", name, check=False)


def photo(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


@pytest.fixture(scope="module")
def photos() -> dict[str, list[Path]]:
    """Two enrolment photos and a probe of one person, and a probe of another."""
    train, val = devdata.celebrity_photos("train"), devdata.celebrity_photos("val")
    return {"enrol": train["ben_afflek"][:2], "probe": val["ben_afflek"][:1], "other": val["madonna"][:1]}


def enrol(server: Server, photos: dict[str, list[Path]]) -> str:
    person = server.graphql(CREATE_PERSON, name="Ben Affleck")["createPerson"]["id"]
    for path in photos["enrol"]:
        server.graphql(CREATE_FACE, p=person, b=photo(path))
    return str(person)


def assert_verifies(server: Server, person: str, photos: dict[str, list[Path]]) -> None:
    assert server.graphql(VERIFY, p=person, b=photo(photos["probe"][0]))["verifyPerson"]["match"] is True
    assert server.graphql(VERIFY, p=person, b=photo(photos["other"][0]))["verifyPerson"]["match"] is False


def test_image_runs_as_a_user_with_a_healthcheck_and_no_tensorflow(podman: Podman, image: str) -> None:
    config = json.loads(podman("image", "inspect", "--format", "{{json .Config}}", image).stdout)
    assert config["User"] == "faceid"
    assert "/data" in config["Volumes"]
    healthcheck = json.loads(podman("image", "inspect", "--format", "{{json .HealthCheck}}", image).stdout)
    assert "/readyz" in " ".join(healthcheck["Test"])
    assert config["Entrypoint"][0] == "tini"
    probe = (
        "import importlib.util as u; "
        "print(u.find_spec('tensorflow'), u.find_spec('onnx2tf'), u.find_spec('ai_edge_litert') is not None)"
    )
    assert podman("run", "--rm", image, "python", "-c", probe).stdout.split() == ["None", "None", "True"]


@dataclass(frozen=True)
class Enrolled:
    """A volume whose SQLite gallery holds one person, and a backup of it taken while it ran."""

    volume: str
    person: str
    key: str
    backup: Path


@pytest.fixture(scope="module")
def enrolled(
    podman: Podman, image: str, photos: dict[str, list[Path]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Enrolled]:
    volume, port = f"faceid-test-{secrets.token_hex(4)}", free_port()
    backup = tmp_path_factory.mktemp("backup") / "faces-backup.sqlite3"
    try:
        with container(podman, image, "-p", f"127.0.0.1:{port}:8000", "-v", f"{volume}:/data", port=port) as server:
            # The first start writes an admin key into the volume (README: Deployment).
            server.key = podman("exec", server.name, "cat", "/data/admin-api-key").stdout.strip()
            assert podman("exec", server.name, "id", "-un").stdout.strip() == "faceid"
            person = enrol(server, photos)
            assert_verifies(server, person, photos)
            podman("exec", server.name, "python", "-m", "cli.database", "backup", "/data/backup.sqlite3")
            podman("cp", f"{server.name}:/data/backup.sqlite3", str(backup))
            podman("exec", server.name, "rm", "/data/backup.sqlite3")
            started = time.monotonic()
            podman("stop", server.name)
            stopped_in = time.monotonic() - started
            # tini hands SIGTERM to uvicorn, which stops gracefully, well before podman's SIGKILL.
            assert stopped_in < STOP_TIMEOUT_S / 2, f"SIGTERM took {stopped_in:.1f} s to stop the server"
            assert "Finished server process" in podman.logs(server.name)
        yield Enrolled(volume, person, server.key, backup)
    finally:
        podman("volume", "rm", "--force", volume, check=False)


def test_a_new_container_on_the_volume_finds_the_faces(
    podman: Podman, image: str, enrolled: Enrolled, photos: dict[str, list[Path]]
) -> None:
    port = free_port()
    with container(
        podman, image, "-p", f"127.0.0.1:{port}:8000", "-v", f"{enrolled.volume}:/data", port=port
    ) as server:
        server.key = enrolled.key
        assert server.graphql(PERSON, p=enrolled.person)["person"] == {"name": "Ben Affleck", "faceCount": 2}
        assert_verifies(server, enrolled.person, photos)


def test_a_backup_restores_into_a_new_volume(
    podman: Podman, image: str, enrolled: Enrolled, photos: dict[str, list[Path]]
) -> None:
    """The README's restore: the backup file put in place as the volume's faces.sqlite3, owned by faceid."""
    volume, port = f"faceid-test-{secrets.token_hex(4)}", free_port()
    restore = ("install", "-o", "faceid", "-g", "faceid", "-m", "0600", "/backup.sqlite3", "/data/faces.sqlite3")
    try:
        mounts = ("-v", f"{volume}:/data", "-v", f"{enrolled.backup}:/backup.sqlite3:ro")
        podman("run", "--rm", "--user", "root", *mounts, image, *restore)
        with container(podman, image, "-p", f"127.0.0.1:{port}:8000", "-v", f"{volume}:/data", port=port) as server:
            server.key = enrolled.key  # keys live in the database, so the old admin key opens the restored one
            assert server.graphql(PERSON, p=enrolled.person)["person"] == {"name": "Ben Affleck", "faceCount": 2}
            assert_verifies(server, enrolled.person, photos)
    finally:
        podman("volume", "rm", "--force", volume, check=False)


def test_gets_ready_with_no_network(podman: Podman, image: str) -> None:
    """The weights are in the image: nothing is fetched at start; the HEALTHCHECK says ready."""
    name = f"faceid-test-{secrets.token_hex(4)}"
    podman("run", "-d", "--init", "--network", "none", "--name", name, image)
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while podman("healthcheck", "run", name, check=False).returncode != 0:
            assert time.monotonic() < deadline, f"never healthy:\n{podman.logs(name)}"
            time.sleep(2)
        assert podman("inspect", "--format", "{{.State.Health.Status}}", name).stdout.strip() == "healthy"
    finally:
        podman("rm", "--force", "--time", "0", name, check=False)


# ------------------------------------------------------------------ the compose file, on PostgreSQL


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "compose.yaml").read_text()))


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPostgres]:
    with local_postgres(tmp_path_factory.mktemp("postgres")) as server:
        yield server


INTERPOLATION = re.compile(r"\$\{(\w+)(?::-([^}]*)|:\?[^}]*)?\}")


def service_env(service: dict[str, Any], **overrides: str) -> list[str]:
    """`-e NAME=VALUE` flags: the compose service's environment, then `overrides`.

    A `${NAME:-default}` takes its default, as compose does with NAME unset; a setting that is
    still `${...}` (one compose requires, `${NAME:?...}`) must be among the overrides.
    """
    environment = {
        name: INTERPOLATION.sub(lambda found: found.group(2) or "", str(value))
        for name, value in service["environment"].items()
        if name not in overrides
    }
    unset = [name for name, value in service["environment"].items() if "${" in str(value) and "?" in str(value)]
    assert set(unset) <= set(overrides), f"compose requires {unset}"
    flags: list[str] = []
    for name, value in (environment | overrides).items():
        flags += ["-e", f"{name}={value}"]
    return flags


def test_compose_deployment_on_postgresql(
    podman: Podman, image: str, compose: dict[str, Any], postgres: LocalPostgres, photos: dict[str, list[Path]]
) -> None:
    """compose.yaml's services as it defines them, but on the host network and the embedded PostgreSQL."""
    services = compose["services"]
    assert {"db", "migrate", "api-1", "api-2"} <= set(services)
    database = postgres.create_database("compose")
    settings = {
        "DATABASE_URL": database,
        "ADMIN_API_KEY": secrets.token_urlsafe(24),
        "METRICS_TOKEN": secrets.token_urlsafe(24),
    }

    migrate = services["migrate"]
    migrated = podman(
        "run", "--rm", "--network", "host", *service_env(migrate, **settings), image, *migrate["command"], check=False
    )
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr

    replicas: list[Server] = []
    with ExitStack() as stack:
        for name in ("api-1", "api-2"):
            service, port = services[name], free_port()
            env = service_env(service, **settings, PORT=str(port))
            server = stack.enter_context(container(podman, image, "--network", "host", *env, port=port))
            server.key = settings["ADMIN_API_KEY"]
            replicas.append(server)
        first, second = replicas
        person = enrol(first, photos)
        # The other replica learns of the faces from PostgreSQL (LISTEN/NOTIFY), not from the first.
        deadline = time.monotonic() + 30
        while second.graphql(PERSON, p=person)["person"]["faceCount"] != 2:
            assert time.monotonic() < deadline
            time.sleep(0.5)
        assert_verifies(second, person, photos)
        metrics = httpx.get(f"{second.url}/metrics", headers={"Authorization": f"Bearer {settings['METRICS_TOKEN']}"})
        assert metrics.status_code == 200 and "faceid_follower_connected" in metrics.text
