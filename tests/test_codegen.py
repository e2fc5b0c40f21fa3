"""Standard codegen over the committed schema.graphql, and what Apollo Client's cache does with files.

No server runs: graphql-codegen 7 (typescript-operations) reads schema.graphql, and the
TypeScript compiler checks that the generated types accept right calls and reject wrong
ones (codegen/check.ts). `make test` installs codegen/ with npm ci.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.server import ROOT

CODEGEN = ROOT / "codegen"


def npx(*args: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("npx") is None or not (CODEGEN / "node_modules").is_dir():
        pytest.fail("codegen/ is not installed: run `make test` (it runs `npm ci --prefix codegen`; needs Node.js 18+)")
    return subprocess.run(["npx", "--no-install", *args], cwd=CODEGEN, capture_output=True, text=True, timeout=300)


def test_typescript_codegen_types_the_schema_well():
    generated = npx("graphql-codegen", "--config", "codegen.yml")
    assert generated.returncode == 0, generated.stdout + generated.stderr
    source = (CODEGEN / "generated" / "graphql.ts").read_text()
    assert "upload?: never" in source and "base64?: never" in source  # @oneOf became a union
    compiled = npx("tsc", "-p", "tsconfig.json")
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr


def test_apollo_cache_first_answers_a_new_photo_from_the_cache():
    """Why the README says fetchPolicy: "no-cache" for queries that take a photo."""
    run = subprocess.run(["node", "apollo-cache.mjs"], cwd=CODEGEN, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    requests = json.loads(run.stdout)
    assert requests == {"cache-first": 1, "network-only": 2, "no-cache": 2}


def test_python_codegen_maps_the_scalars():
    """ariadne-codegen (in codegen/.venv, installed by `make test`) builds a typed client from schema.graphql."""
    python = CODEGEN / ".venv" / "bin" / "python"
    if not python.exists():
        pytest.fail("codegen/.venv is missing: run `make test` (it installs codegen/requirements.txt there)")
    (CODEGEN / "generated").mkdir(exist_ok=True)
    generated = subprocess.run(
        [str(CODEGEN / ".venv" / "bin" / "ariadne-codegen"), "--config", "ariadne-codegen.toml"],
        cwd=CODEGEN,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    checked = subprocess.run([str(python), "check_client.py"], cwd=CODEGEN, capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0 and checked.stdout.strip() == "ok", checked.stdout + checked.stderr
