"""Test helpers: a GraphQL client for the app under test, and the photos the tests use."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from tortoise.backends.base.executor import EXECUTOR_CACHE

import devdata
from app import create_app
from devdata.postgres import LocalPostgres
from ml.pipeline import FacePipeline
from search.galleries import Galleries
from search.memory import MemorySearch
from services import Services
from settings import Settings
from telemetry import PROMETHEUS_TEXT

ANGELINA = [devdata.DEEPFACE / f"img{i}.jpg" for i in (1, 2, 4)]  # same person (pairs-master)
COUPLE = devdata.DEEPFACE / "couple.jpg"
ADMIN_KEY = "fid_tests-admin-key-0123456789abcdef"  # the ADMIN_API_KEY of the tests' servers


def b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")


def scan_bomb(scans: int, size: tuple[int, int] = (1600, 1200)) -> bytes:
    """A progressive JPEG whose smallest scan is repeated until it has `scans`: a few bytes each, and
    each a full pass over every block (3,000 of them held a decode worker for seconds)."""
    out = io.BytesIO()
    Image.new("RGB", size, (120, 130, 140)).save(out, "JPEG", progressive=True, quality=90)
    data = out.getvalue()
    starts = [i for i in range(len(data) - 1) if data[i : i + 2] == b"\xff\xda"]
    ends = [*starts[1:], len(data) - 2]  # each scan runs to the next one, the last to EOI
    smallest = min(range(1, len(starts)), key=lambda k: ends[k] - starts[k])
    scan = data[starts[smallest] : ends[smallest]]
    return data[:-2] + scan * (scans - len(starts)) + b"\xff\xd9"


@dataclass
class Api:
    """A GraphQL client for the app under test."""

    http: httpx.AsyncClient
    app: Starlette
    headers: dict[str, str] = field(default_factory=dict)

    def as_key(self, secret: str | None) -> Api:
        """The same client, sending this API key (None: no key)."""
        return replace(self, headers={} if secret is None else {"Authorization": f"Bearer {secret}"})

    async def new_key(self, *scopes: str, name: str = "test key", collections: list[str] | None = None) -> str:
        """A new API key's secret, with these scopes (created with this client's key), bound to `collections`."""
        data = await self.ok(
            "mutation($n: String!, $s: [ApiScope!]!, $c: [ID!]) "
            "{ createApiKey(name: $n, scopes: $s, collections: $c) { secret } }",
            n=name,
            s=list(scopes),
            c=collections,
        )
        return data["createApiKey"]["secret"]

    @property
    def services(self) -> Services:
        return self.app.state.services

    @property
    def gallery(self) -> Galleries:
        """The default model's in-memory galleries of the memory search backend (the tests' servers use it)."""
        return self.gallery_of(self.services.model_id)

    def gallery_of(self, model: str) -> Galleries:
        search = self.services.search.of(model)
        assert isinstance(search, MemorySearch), search
        return search.gallery

    async def raw(self, query: str, **variables: Any) -> dict:
        response = await self.http.post("/graphql", json={"query": query, "variables": variables}, headers=self.headers)
        return response.json()

    async def ok(self, query: str, **variables: Any) -> dict:
        body = await self.raw(query, **variables)
        assert "errors" not in body, body
        return body["data"]

    async def error(self, query: str, **variables: Any) -> dict:
        """The single error of a failing operation."""
        body = await self.raw(query, **variables)
        assert len(body.get("errors") or []) == 1, body
        return body["errors"][0]

    async def upload(self, query: str, files: dict[str, tuple[str, bytes]], **variables: Any) -> dict:
        """A GraphQL multipart request: each file fills variables[name]."""
        operations = {"query": query, "variables": {**variables, **dict.fromkeys(files)}}
        mapping = {str(i): [f"variables.{name}"] for i, name in enumerate(files)}
        parts = {
            str(i): (filename, data, "application/octet-stream") for i, (filename, data) in enumerate(files.values())
        }
        response = await self.http.post(
            "/graphql",
            data={"operations": json.dumps(operations), "map": json.dumps(mapping)},
            files=parts,
            headers=self.headers,
        )
        return response.json()

    async def create_person(self, name: str, **extra: Any) -> str:
        data = await self.ok(
            "mutation($input: PersonInput!) { createPerson(input: $input) { id } }", input={"name": name, **extra}
        )
        return data["createPerson"]["id"]

    async def enrol(self, person_id: str, photo: Path) -> dict:
        data = await self.ok(
            """mutation($p: ID!, $b: String!) {
                 createFace(personId: $p, image: {base64: $b}) { id box { x y width height } detector model }
               }""",
            p=person_id,
            b=b64(photo),
        )
        return data["createFace"]

    async def enrol_celebrities(self, photos_each: int) -> dict[str, str]:
        """The five celebrities of five-celebrity, with their first training photos: name -> person id."""
        ids = {}
        for name, photos in devdata.celebrity_photos("train").items():
            ids[name] = await self.create_person(name)
            for photo in photos[:photos_each]:
                await self.enrol(ids[name], photo)
        return ids

    async def counts(self) -> tuple[int, int]:
        """(persons, faces) in the database, through the API."""
        data = await self.ok("{ persons { totalCount } faces { totalCount } }")
        return data["persons"]["totalCount"], data["faces"]["totalCount"]


def migrate(database_url: str) -> None:
    """Apply the migrations to a PostgreSQL database, in a process of its own as `make migrate` does."""
    environment = {**os.environ, "DATABASE_URL": database_url}
    subprocess.run([sys.executable, "-m", "cli.database", "migrate"], env=environment, check=True, capture_output=True)


def migrated_database(postgres: LocalPostgres) -> str:
    """A new database on the tests' PostgreSQL, migrated; its URL."""
    url = postgres.create_database(f"test_{uuid.uuid4().hex[:12]}")
    migrate(url)
    return url


def server_settings(data_dir: Path, **changes: Any) -> Settings:
    """Settings for a test server: its own data directory and the tests' admin key."""
    return Settings(data_dir=data_dir, admin_api_key=ADMIN_KEY, **changes)


@asynccontextmanager
async def start_api(
    settings: Settings, pipeline: FacePipeline | list[FacePipeline], key: str | None = ADMIN_KEY
) -> AsyncIterator[Api]:
    """The app on `settings` with `pipeline` (or several, the default first), its lifespan running, and a client
    for it (sending `key`); stopped on exit."""
    # Tortoise caches each table's INSERT per connection name, not per dialect: this process runs
    # apps on SQLite and on PostgreSQL in turn, so a cached statement may be the other dialect's.
    EXECUTOR_CACHE.clear()
    app = create_app(settings, pipelines=pipeline if isinstance(pipeline, list) else [pipeline])
    async with LifespanManager(app, startup_timeout=120) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost", timeout=120) as http:
            yield Api(http, app).as_key(key)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the exposition, by name and labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def scrape(api: Api, headers: dict[str, str]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await api.http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == PROMETHEUS_TEXT
    return samples(response.text)


def extensions_of(error: dict) -> dict:
    """An error's extensions but its `requestId` (each answer's own; tests/test_logs.py checks it)."""
    return {name: value for name, value in error["extensions"].items() if name != "requestId"}
