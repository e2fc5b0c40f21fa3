"""Fixtures: the real models (loaded once), and a real app per test module.

Each module gets a fresh SQLite database and the application with its lifespan on,
driven over HTTP by httpx; the loaded models are shared so that start-up is cheap.
Tests that need the models are marked `models` on collection, so that
`pytest -m "not models"` runs the fast rest alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import devdata
from ml.pipeline import FacePipeline
from services import build_pipeline
from settings import Settings
from tests.helpers import Api, server_settings, start_api


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "pipeline" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.models)


@pytest.fixture(scope="session")
def pipeline() -> FacePipeline:
    if not devdata.ROOT.is_dir():
        pytest.fail(f"the shared face photos are missing: {devdata.ROOT}")
    return build_pipeline(Settings())


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return server_settings(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
async def api(settings: Settings, pipeline: FacePipeline) -> AsyncIterator[Api]:
    async with start_api(settings, pipeline) as client:
        yield client
