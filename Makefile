# Two commands are the whole set-up: `make run` and `make test`.
# Each creates .venv if needed and installs what is missing, then does its job.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
# The optional dependencies `make install` adds (pyproject.toml); the container image sets none.
EXTRAS ?= dev
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: install run test image-test lint format schema migrate copy-db bench-accuracy bench-perf bench-scale bench-collections bench-live bench-liveness clean clean-bench

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

GRAPHIQL := graphiql/node_modules/.package-lock.json

CONSOLE := console/node_modules/.package-lock.json

# Reinstall only when pyproject.toml (or GraphiQL's or the console's lock file) changes.
$(STAMP): pyproject.toml $(GRAPHIQL) $(CONSOLE) | $(PY)
	$(PY) -m pip install --quiet -e ".$(if $(EXTRAS),[$(EXTRAS)])"
	$(PY) -m weights.fetch --quiet $(if $(WEIGHTS_DIR),--dir "$(WEIGHTS_DIR)")
	$(PY) -m ml.litert --quiet $(if $(WEIGHTS_DIR),--dir "$(WEIGHTS_DIR)")
	touch $@

# GraphiQL's browser files, served by the app itself (no CDN): npm, with Node.js 18 or newer.
$(GRAPHIQL): graphiql/package.json graphiql/package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js 18+ (Debian: apt-get install nodejs npm)"; exit 1; }
	npm ci --prefix graphiql --no-audit --no-fund --loglevel=error
	touch $@

# The web console's one library (graphql-ws), served by the app at /console/vendor/: npm as above.
$(CONSOLE): console/package.json console/package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js 18+ (Debian: apt-get install nodejs npm)"; exit 1; }
	npm ci --prefix console --no-audit --no-fund --loglevel=error
	touch $@

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(PY) -m pip install --quiet -e ".[dev,bench]"
	$(PY) -m pip install --quiet --no-deps "face-recognition==1.3.0"
	touch $@

install: $(STAMP)

run: $(STAMP)
	$(PY) app.py

# PostgreSQL only (DATABASE_URL=postgres://...): apply the schema migrations in migrations/
# (SQLite needs none). A server on PostgreSQL refuses to start until this has run.
migrate: $(STAMP)
	$(PY) -m cli.database migrate

# Copy the SQLite gallery of DATA_DIR into the PostgreSQL database of DATABASE_URL (migrated, empty).
copy-db: $(STAMP)
	$(PY) -m cli.database copy

# The codegen check's tools, for tests only: graphql-codegen, TypeScript and Apollo Client from
# npm; ariadne-codegen in a venv of its own (it needs a graphql-core older than Strawberry's).
CODEGEN := codegen/node_modules/.package-lock.json
CODEGEN_PY := codegen/.venv/.installed
$(CODEGEN): codegen/package.json codegen/package-lock.json
	npm ci --prefix codegen --no-audit --no-fund --loglevel=error
	touch $@
$(CODEGEN_PY): codegen/requirements.txt
	$(PYTHON) -m venv codegen/.venv
	codegen/.venv/bin/pip install --quiet -r codegen/requirements.txt
	touch $@

# The GraphQL over HTTP audits (npm graphql-http), run by tests/test_conformance.py against a live server.
CONFORMANCE := conformance/node_modules/.package-lock.json
$(CONFORMANCE): conformance/package.json conformance/package-lock.json
	npm ci --prefix conformance --no-audit --no-fund --loglevel=error
	touch $@

test: $(STAMP) $(CODEGEN) $(CODEGEN_PY) $(CONFORMANCE)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

# The container image built with podman and tried for real (container/test_image.py): minutes, so
# its own target; .ci/run runs it after `make test`. As root: podman, runc and debootstrap come
# from Debian when missing; images and layers stay in IMAGE_STORE between runs.
IMAGE_STORE ?= /var/tmp/faceid-podman
image-test: $(STAMP)
	@command -v podman >/dev/null && command -v runc >/dev/null && command -v debootstrap >/dev/null || { \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc debootstrap; }
	IMAGE_STORE=$(IMAGE_STORE) $(PY) -m pytest container -p no:cacheprovider

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(VENV)/bin/lint-imports

# The committed schema.graphql, for client codegen; tests/test_schema_file.py fails when it is stale.
schema: $(STAMP)
	$(PY) -m schema.export

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# ARGS=--quick: LFW folds 1-2 only, for iteration (writes accuracy-quick.md).
bench-accuracy: $(BENCH_STAMP)
	$(PY) -m bench.accuracy $(ARGS)

bench-perf: $(BENCH_STAMP)
	$(PY) -m bench.perf

# One million faces in an embedded PostgreSQL: HNSW, exact SQL and in-memory search, replicas.
bench-scale: $(BENCH_STAMP)
	$(PY) -m bench.scale $(ARGS)

# A search in one of 100 collections of 10,000 faces against a 10,000-face gallery alone (memory), and pgvector with the filter.
bench-collections: $(BENCH_STAMP)
	$(PY) -m bench.collections $(ARGS)

# Live recognition over WebSocket: frames/s answered and latency for one camera stream.
bench-live: $(BENCH_STAMP)
	$(PY) -m bench.live $(ARGS)

# Liveness sessions built from LFW photos (bona fide and five attacks): BPCER and APCER per attack.
bench-liveness: $(BENCH_STAMP)
	$(PY) -m bench.liveness $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache

# The benchmarks' cached detections and embeddings (bench/cache.py).
clean-bench:
	rm -rf bench/cache
