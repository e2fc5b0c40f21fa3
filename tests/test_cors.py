"""Browser frontends on other origins: allowed only when CORS_ORIGINS names them.

A module of its own: it starts its own app, which cannot run beside another module's.
"""

from __future__ import annotations

from tests.helpers import start_api


async def test_cors_for_configured_origins(settings, pipeline):
    async with start_api(settings.model_copy(update={"cors_origins": ("https://app.example",)}), pipeline) as api:
        preflight = await api.http.options(
            "/graphql",
            headers={
                "origin": "https://app.example",
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://app.example"
        other = await api.http.post(
            "/graphql", json={"query": "{ model { name } }"}, headers={**api.headers, "origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in other.headers
