"""The first admin key: created at first start (or taken from ADMIN_API_KEY), and AUTH=off.

A module of its own: each test starts its own apps, which cannot run beside another module's.
"""

from __future__ import annotations

import logging
import stat

import pytest

from settings import Settings, SettingsError
from tests.helpers import start_api

MODEL = "{ model { name } }"


async def status(api, secret: str) -> int:
    response = await api.http.post("/graphql", json={"query": MODEL}, headers={"Authorization": f"Bearer {secret}"})
    return response.status_code


async def test_first_start_creates_an_admin_key_once(tmp_path, pipeline, capfd):
    settings = Settings(data_dir=tmp_path)
    async with start_api(settings, pipeline, key=None) as api:
        key_file = settings.admin_key_file
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        secret = key_file.read_text().strip()
        assert secret in capfd.readouterr().err  # printed once, for the operator
        admin = api.as_key(secret)
        assert (await admin.ok("{ apiKeys { name scopes } }"))["apiKeys"] == [
            {"name": "admin (created at first start)", "scopes": ["ADMIN"]}
        ]
        assert (await api.error(MODEL))["extensions"]["code"] == "UNAUTHENTICATED"

    async with start_api(settings, pipeline, key=secret) as api:
        assert key_file.read_text().strip() == secret  # not replaced
        assert secret not in capfd.readouterr().err
        assert len((await api.ok("{ apiKeys { id } }"))["apiKeys"]) == 1


async def test_admin_api_key_from_the_environment_replaces_its_previous_value(tmp_path, pipeline):
    first, second = "fid_first-environment-key-000000", "fid_second-environment-key-00000"
    async with start_api(Settings(data_dir=tmp_path, admin_api_key=first), pipeline, key=first) as api:
        assert not (tmp_path / "admin-api-key").exists()  # the environment's key is the admin key
        assert await status(api, first) == 200
    async with start_api(Settings(data_dir=tmp_path, admin_api_key=second), pipeline, key=second) as api:
        assert await status(api, second) == 200
        assert await status(api, first) == 401
        keys = (await api.ok("{ apiKeys(includeRevoked: true) { fromEnvironment revokedAt } }"))["apiKeys"]
        assert [key["revokedAt"] is None for key in keys] == [False, True]


async def test_auth_off_is_loud(tmp_path, pipeline, caplog):
    with caplog.at_level(logging.WARNING):
        async with start_api(Settings(data_dir=tmp_path, auth="off"), pipeline, key=None) as api:
            assert (await api.http.get("/healthz")).json()["auth"] == "off"
            assert (await api.ok(MODEL))["model"]["name"] == api.services.model_id
            await api.ok('mutation { createPerson(input: {name: "anyone"}) { id } }')
    assert any("AUTH=off" in record.getMessage() for record in caplog.records)
    assert not (tmp_path / "admin-api-key").exists()


def test_admin_api_key_must_be_long_and_is_never_echoed():
    with pytest.raises(SettingsError, match="ADMIN_API_KEY") as refused:
        Settings.from_env({"ADMIN_API_KEY": "short-secret"})
    assert "short-secret" not in str(refused.value)
