"""schema.graphql, the file clients generate code from, is the schema the code serves."""

from __future__ import annotations

from schema.export import SCHEMA_FILE, sdl


def test_committed_schema_file_is_current():
    assert SCHEMA_FILE.read_text() == sdl(), "schema.graphql is stale: run `make schema` and commit it"
