"""INTROSPECTION=false: the schema is not introspected, and no error names a hidden field either."""

from __future__ import annotations

from tests.helpers import server_settings, start_api


async def test_without_introspection_no_field_is_suggested(tmp_path, pipeline):
    settings = server_settings(tmp_path, introspection=False)
    async with start_api(settings, pipeline) as api:
        body = await api.raw("{ persns { totalCount } }")
        assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert "Did you mean" not in body["errors"][0]["message"], body
