"""Fixtures: the real models (loaded once), and a real app per test module.

Each module gets a fresh SQLite database and the application with its lifespan on,
driven over HTTP by httpx; the loaded models are shared so that start-up is cheap.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette

import devdata
from app import create_app
from ml.pipeline import FacePipeline
from resolvers.services import Services, build_pipeline
from settings import Settings

ANGELINA = [devdata.DEEPFACE / f"img{i}.jpg" for i in (1, 2, 4)]  # same person (pairs-master)
COUPLE = devdata.DEEPFACE / "couple.jpg"


@pytest.fixture(scope="session")
def pipeline() -> FacePipeline:
    if not devdata.ROOT.is_dir():
        pytest.fail(f"the shared face photos are missing: {devdata.ROOT}")
    return build_pipeline(Settings())


def b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")


@dataclass
class Api:
    """A GraphQL client for the app under test."""

    http: httpx.AsyncClient
    app: Starlette

    @property
    def services(self) -> Services:
        return self.app.state.services

    async def raw(self, query: str, **variables: Any) -> dict:
        response = await self.http.post("/graphql", json={"query": query, "variables": variables})
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
            "/graphql", data={"operations": json.dumps(operations), "map": json.dumps(mapping)}, files=parts
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

    async def counts(self) -> tuple[int, int]:
        """(persons, faces) in the database, through the API."""
        data = await self.ok("{ persons { totalCount } faces { totalCount } }")
        return data["persons"]["totalCount"], data["faces"]["totalCount"]


async def start_api(settings: Settings, pipeline: FacePipeline) -> AsyncIterator[Api]:
    app = create_app(settings, pipeline=pipeline)
    async with LifespanManager(app, startup_timeout=120) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=120) as http:
            yield Api(http, app)


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
async def api(settings: Settings, pipeline: FacePipeline) -> AsyncIterator[Api]:
    async for client in start_api(settings, pipeline):
        yield client
