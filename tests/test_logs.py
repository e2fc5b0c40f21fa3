"""Logs a machine parses (LOG_FORMAT=json) and request ids (X-Request-ID) in answers, errors and log lines."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.helpers import ADMIN_KEY
from tests.server import running_server

MISSING = 'mutation { deletePerson(id: "5f1d0000-0000-4000-8000-000000000000") { id } }'


def _json_lines(path: Path) -> list[dict]:
    """The log's JSON lines (the native libraries below Python write a few plain lines of their own)."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def test_json_logs_carry_the_request_id_the_operation_and_no_secret(tmp_path: Path):
    with running_server(tmp_path, LOG_FORMAT="json", ADMIN_API_KEY=ADMIN_KEY) as server:
        headers = {"Authorization": f"Bearer {ADMIN_KEY}", "X-Request-ID": "trace-123"}
        answer = httpx.post(f"{server.url}/graphql", json={"query": MISSING}, headers=headers)
        assert answer.headers["x-request-id"] == "trace-123"
        error = answer.json()["errors"][0]
        assert error["extensions"] == {"code": "NOT_FOUND", "requestId": "trace-123"}
        made = httpx.post(f"{server.url}/graphql", json={"query": "{ errorCodes { code } }"}, headers=server.headers)
        assert len(made.headers["x-request-id"]) == 32  # none sent: one is made
        odd = httpx.get(f"{server.url}/healthz", headers={"X-Request-ID": "no spaces\\nor newlines"})
        assert odd.headers["x-request-id"] != "no spaces\\nor newlines"  # not a safe id: replaced
        refused = httpx.get(f"{server.url}/metrics", headers={"Authorization": "Bearer fid_nope", "X-Request-ID": "r2"})
        assert refused.status_code == 401 and refused.json()["errors"][0]["extensions"]["requestId"] == "r2"
    lines = _json_lines(server.log_path)
    assert lines and all({"time", "level", "logger", "request_id", "message"} <= set(line) for line in lines)
    operation = next(
        line for line in lines if line["logger"] == "faceid.operations" and line["request_id"] == "trace-123"
    )
    assert operation["operation"] == "deletePerson" and operation["result"] == "NOT_FOUND"
    assert operation["key_id"] and operation["duration_ms"] >= 0
    assert any(line["request_id"] == made.headers["x-request-id"] for line in lines)
    assert ADMIN_KEY not in server.log_path.read_text()


def test_text_logs_name_the_request_id(tmp_path: Path):
    with running_server(tmp_path, ADMIN_API_KEY=ADMIN_KEY) as server:
        httpx.post(
            f"{server.url}/graphql",
            json={"query": MISSING},
            headers={"Authorization": f"Bearer {ADMIN_KEY}", "X-Request-ID": "trace-456"},
        )
    line = next(line for line in server.log_path.read_text().splitlines() if "[trace-456]" in line)
    assert "faceid.operations" in line and "deletePerson NOT_FOUND" in line
