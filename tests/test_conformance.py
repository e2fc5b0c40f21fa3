"""The GraphQL over HTTP spec's audits (npm graphql-http's auditServer) against a real server process.

Every MUST and SHOULD audit passes for a client with a valid key and for an anonymous
one, and so does every MAY but those about GET: operations over GET are off on purpose
(a cross-site <img> or link must not run a verification). With an unknown key every
request is 401 before its body is looked at, so every audit that expects an answer
fails: by design (a caller naming a key that does not exist learns nothing else), and
checked here as such.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import pytest

from tests.server import ROOT, Server, running_server

AUDITS = ROOT / "conformance"
GET_ONLY = "GET"  # the MAY audits about GET requests name it


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("conformance")) as server:
        yield server


def audits(server: Server, key: str | None) -> list[dict]:
    assert (AUDITS / "node_modules" / "graphql-http").is_dir(), "run `make test` (npm ci --prefix conformance)"
    command = ["node", "audit.mjs", f"{server.url}/graphql", *([key] if key else [])]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=AUDITS, check=True)
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.mark.parametrize("who", ["a valid key", "anonymous"])
def test_every_audit_passes(server: Server, who: str) -> None:
    results = audits(server, server.key if who == "a valid key" else None)
    assert len(results) > 50
    exempt = [r for r in results if r["name"].startswith("MAY") and GET_ONLY in r["name"]]
    failed = [f"{r['id']} {r['name']}: {r['reason']}" for r in results if r["status"] != "ok" and r not in exempt]
    assert not failed, "\n".join(failed)
    assert sum(r["name"].startswith("MUST") for r in results) >= 13


def test_an_unknown_key_is_refused_before_the_body(server: Server) -> None:
    results = audits(server, "fid_no-such-key")
    musts = [r for r in results if r["name"].startswith("MUST")]
    assert len(musts) >= 13
    # Every MUST expects an answer to its request; each got the 401 instead (an unexpected status code).
    assert all(r["status"] != "ok" and "status code" in r["reason"] for r in musts), musts
