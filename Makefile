# The two commands: `make run` and `make test`. Everything they need is installed into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCKS := requirements/app.lock requirements/dev.lock
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml partners/pyproject.toml $(LOCKS) 2>/dev/null | cksum | cut -d' ' -f1)
# The locker, installed into .venv by `make lock` only: installing needs nothing but pip.
UV_VERSION := 0.13.9
UV_COMPILE := $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes --no-header
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install lock compose-smoke run serve test lint typecheck pytest clean bench-scoring bench-verify bench-stack bench-verify-steps bench-web screens

# Exact versions with their hashes from the lock (reproducible), then the two local packages without deps.
$(STAMP): pyproject.toml partners/pyproject.toml $(LOCKS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e . -e ./partners
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## make lock: re-resolve requirements/*.lock after a dependency changed in a pyproject.toml (needs PyPI)
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(UV_COMPILE) -o requirements/app.lock pyproject.toml
	$(UV_COMPILE) -o requirements/dev.lock --all-extras pyproject.toml partners/pyproject.toml

## make run: migrate the embedded SQLite database, load the demo data, serve on http://127.0.0.1:8000
run: install
	mkdir -p var
	$(BIN)/xinyi migrate
	$(BIN)/xinyi demo load --host $(HOST) --port $(PORT)
	$(BIN)/xinyi serve --host $(HOST) --port $(PORT) --with-worker

## make test: lint, types, and the whole suite (again on PostgreSQL + Redis when their URLs are set)
test: install lint typecheck pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The partner kit is a published library: its types are checked with --strict.
typecheck: install
	$(BIN)/mypy app demo scripts/compose_smoke.py
	$(BIN)/mypy --strict partners/xinyi_partner

# In parallel (one worker per core, each with its own database and Redis db) and in random order
# (pytest-randomly prints the seed; PYTEST_ARGS="-n auto --randomly-seed=N" replays an order).
PYTEST_ARGS ?= -n auto
pytest: install
	XINYI_TEST_LEG=embedded $(BIN)/pytest $(PYTEST_ARGS)
	@if [ -n "$$XINYI_TEST_DATABASE_URL$$XINYI_TEST_REDIS_URL" ]; then \
		echo "== external leg: PostgreSQL + Redis =="; \
		XINYI_TEST_LEG=external $(BIN)/pytest $(PYTEST_ARGS); \
	fi

## make compose-smoke: compose.yaml's services as local processes in compose's order, then a sign-in and a pass
compose-smoke: install
	scripts/compose-smoke $(SMOKE_ARGS)

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache

## make bench-scoring: import + rebuild of N subjects × 10 records on PostgreSQL vs raw COPY (BENCH_ARGS=--subjects 100000)
bench-scoring: install
	$(BIN)/python -m benchmarks.bench_scoring $(BENCH_ARGS)

## make bench-verify: the app's POST /v1/verifications vs a native reference (FastAPI + asyncpg + redis.asyncio + PyJWT), one uvicorn worker each, wrk at 64 connections in alternating rounds, and pass issuance. Needs wrk (apt-get install wrk). Knobs, as Make or environment variables: BENCH_SECONDS=10 BENCH_ROUNDS=3 BENCH_CONNECTIONS=64 BENCH_THREADS=2 BENCH_ISSUANCE=300 BENCH_HEADROOM=1.5 BENCH_ACCESS_LOG=1 BENCH_NATIVE_POOL=10 BENCH_DATABASE_URL BENCH_REDIS_URL (db 13, emptied) BENCH_PROFILE=dir
bench-verify: install
	$(BIN)/python -m benchmarks.bench_verify $(BENCH_ARGS)

## make bench-stack: the native reference's four steps on the raw driver and on the app's stack (SQLModel ORM or Core, async or sync): what the stack alone costs, as ratios of the native. Needs wrk. Knobs: BENCH_SECONDS=5 BENCH_ROUNDS=3 BENCH_CONNECTIONS=64 BENCH_DATABASE_URL BENCH_REDIS_URL
bench-stack: install
	$(BIN)/python -m benchmarks.bench_stack $(BENCH_ARGS)

## make bench-verify-steps: a diagnostic, no target: the app in process issues passes, then verifies them, one at a time, and prints each step's share of the server's CPU for either path (verification: API key, Idempotency-Key, token, standing, scan, audit chain, commit, Redis; issuance: access token, signature, Redis, QR symbol, SVG, response). Knobs: BENCH_VERIFICATIONS=600 BENCH_DATABASE_URL BENCH_REDIS_URL
bench-verify-steps: install
	$(BIN)/python -m benchmarks.verify_steps

## make bench-web: the scanner's camera frame -> result (fake camera, zxing-wasm), the decoder's and the pages' sizes
bench-web: install
	$(BIN)/python -m benchmarks.bench_web $(BENCH_ARGS)

## make screens: a screenshot of each main screen (phone size) into docs/screens/ (needs a Chinese font)
screens: install
	$(BIN)/python -m scripts.screens
