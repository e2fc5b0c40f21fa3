# Two commands are the whole set-up: `make run` and `make test`.
# Each creates .venv if needed and installs what is missing, then does its job.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: install run test lint format schema bench-accuracy bench-perf clean clean-bench

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall only when pyproject.toml changes.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[dev]"
	$(PY) -m weights.fetch --quiet
	touch $@

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(PY) -m pip install --quiet -e ".[dev,bench]"
	$(PY) -m pip install --quiet --no-deps "face-recognition==1.3.0"
	touch $@

install: $(STAMP)

run: $(STAMP)
	$(PY) app.py

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

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

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache

# The benchmarks' cached detections and embeddings (bench/cache.py).
clean-bench:
	rm -rf bench/cache
