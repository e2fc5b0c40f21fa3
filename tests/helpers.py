"""Test helpers: a GraphQL client for the app under test, and the photos the tests use."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette

import devdata
from app import create_app
from ml.pipeline import FacePipeline
from services import Services
from settings import Settings

ANGELINA = [devdata.DEEPFACE / f"img{i}.jpg" for i in (1, 2, 4)]  # same person (pairs-master)
COUPLE = devdata.DEEPFACE / "couple.jpg"


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


@asynccontextmanager
async def start_api(settings: Settings, pipeline: FacePipeline) -> AsyncIterator[Api]:
    """The app on `settings`, its lifespan running, and a client for it; stopped on exit."""
    app = create_app(settings, pipeline=pipeline)
    async with LifespanManager(app, startup_timeout=120) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=120) as http:
            yield Api(http, app)
