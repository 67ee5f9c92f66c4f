# The targets the README names. `make test` is the one command that runs every test.
.PHONY: install dev test test-unit test-integration test-e2e lint format bench

# uv if it is on PATH, else the copy `make install` puts in this Python with pip.
UV ?= $(shell command -v uv 2>/dev/null || echo python3 -m uv)
PYTEST = $(UV) run --frozen pytest

install:            ## uv (if missing) and the Python environment, from the lock file
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen

dev: install        ## run Chimera on embedded defaults: http://127.0.0.1:8000
	$(UV) run --frozen chimera dev

test: install lint  ## every suite, cheapest first
	$(PYTEST) tests/unit tests/integration tests/e2e

test-unit:
	$(PYTEST) tests/unit

test-integration:
	$(PYTEST) tests/integration

test-e2e:
	$(PYTEST) tests/e2e

lint:
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy

format:
	$(UV) run --frozen ruff format .
	$(UV) run --frozen ruff check --fix .

bench:              ## benchmarks: chat TTFT and chats/s under load; history and usage latency at 10k messages
	$(UV) run --frozen python -m tests.bench.chat_load --concurrency 1 10 100 --requests 400
	$(UV) run --frozen python -m tests.bench.history_load --requests 300
