"""/livez, /readyz and /healthz: a load balancer's and an orchestrator's view of a replica.

Readiness is shown to follow the database for real: PostgreSQL refuses this replica's database (its
connections ended, new ones not allowed), the replica says 503 and why, and ready again once it may connect.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from devdata.postgres import LocalPostgres
from ml.pipeline import FacePipeline
from tests.helpers import migrated_database, server_settings, start_api

RECOVERY_S = 30.0  # the follower's back-off tops at 5 s between attempts


async def test_ready_follows_the_database(tmp_path: Path, pipeline: FacePipeline, postgres: LocalPostgres):
    url = migrated_database(postgres)
    name = url.rsplit("/", 1)[1]
    async with start_api(server_settings(tmp_path, database_url=url), pipeline) as api:
        assert (await api.http.get("/livez")).json() == {"status": "alive"}
        assert (await api.http.get("/readyz")).json() == {"status": "ready"}
        assert (await api.http.get("/healthz")).json()["status"] == "ok"
        postgres.psql(
            f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false; '
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        )
        try:
            unready = await api.http.get("/readyz")
            assert unready.status_code == 503 and unready.headers["retry-after"], unready.text
            body = unready.json()
            assert body["status"] == "unready" and ("database" in body["reason"] or "follower" in body["reason"])
            assert (await api.http.get("/livez")).status_code == 200  # alive: nothing to restart
        finally:
            postgres.psql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        deadline = time.monotonic() + RECOVERY_S
        while (await api.http.get("/readyz")).status_code != 200:
            assert time.monotonic() < deadline, (await api.http.get("/readyz")).text
            await asyncio.sleep(0.5)


async def test_ready_on_sqlite(tmp_path: Path, pipeline: FacePipeline):
    async with start_api(server_settings(tmp_path), pipeline) as api:
        assert (await api.http.get("/readyz")).json() == {"status": "ready"}
