"""METRICS_TOKEN: a Prometheus scraper's bearer token reads /metrics and nothing else (its own app: one per module)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml.pipeline import FacePipeline
from tests.helpers import Api, scrape, server_settings, start_api

TOKEN = "scraper-token-0123456789"


@pytest.fixture
async def scraped(tmp_path: Path, pipeline: FacePipeline):
    async with start_api(server_settings(tmp_path, metrics_token=TOKEN), pipeline) as client:
        yield client


async def test_the_metrics_token_reads_metrics_and_nothing_else(scraped: Api):
    assert (await scrape(scraped, {"Authorization": f"Bearer {TOKEN}"}))[("faceid_pending_photos", ())] == 0
    refused = await scraped.http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}x"})
    assert refused.status_code == 401
    assert (await scraped.http.delete("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})).status_code == 401
    graphql = await scraped.http.post(
        "/graphql", json={"query": "{ collections { id } }"}, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert graphql.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
