# The two commands: `make run` and `make test`. Everything they need is installed into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml partners/pyproject.toml 2>/dev/null | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run serve test lint typecheck pytest clean bench-scoring bench-verify bench-web screens

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@if [ -f partners/pyproject.toml ]; then $(BIN)/python -m pip install --quiet -e './partners[qr]'; fi
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## make run: migrate the embedded SQLite database, load the demo data, serve on http://127.0.0.1:8000
run: install
	mkdir -p var
	$(BIN)/xinyi migrate
	$(BIN)/xinyi demo load
	$(BIN)/xinyi serve --host $(HOST) --port $(PORT) --with-worker

## make test: lint, types, and the whole suite (again on PostgreSQL + Redis when their URLs are set)
test: install lint typecheck pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy app $(wildcard partners/xinyi_partner)

# In parallel (one worker per core, each with its own database and Redis db) and in random order
# (pytest-randomly prints the seed; PYTEST_ARGS="-n auto --randomly-seed=N" replays an order).
PYTEST_ARGS ?= -n auto
pytest: install
	XINYI_TEST_LEG=embedded $(BIN)/pytest $(PYTEST_ARGS)
	@if [ -n "$$XINYI_TEST_DATABASE_URL$$XINYI_TEST_REDIS_URL" ]; then \
		echo "== external leg: PostgreSQL + Redis =="; \
		XINYI_TEST_LEG=external $(BIN)/pytest $(PYTEST_ARGS); \
	fi

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache

## make bench-scoring: import + rebuild of N subjects × 10 records on PostgreSQL vs raw COPY (BENCH_ARGS=--subjects 100000)
bench-scoring: install
	$(BIN)/python -m benchmarks.bench_scoring $(BENCH_ARGS)

## make bench-verify: one uvicorn worker on PostgreSQL + Redis (db 13), 64 connections: POST /v1/verifications vs a bare reference, and pass issuance (BENCH_ARGS=--duration 10)
bench-verify: install
	$(BIN)/python -m benchmarks.bench_verify $(BENCH_ARGS)

## make bench-web: the scanner's camera frame -> result (fake camera, zxing-wasm), the decoder's and the pages' sizes
bench-web: install
	$(BIN)/python -m benchmarks.bench_web $(BENCH_ARGS)

## make screens: a screenshot of each main screen (phone size) into docs/screens/ (needs a Chinese font)
screens: install
	$(BIN)/python -m scripts.screens
