# The targets the README names. `make test` is the one command that runs every test.
.PHONY: install dev test test-unit test-integration test-infra test-e2e lint format bench layer synth deploy

# uv if it is on PATH, else the copy `make install` puts in this Python with pip.
UV ?= $(shell command -v uv 2>/dev/null || echo python3 -m uv)
# Python 3.13, the Lambda runtime's, so tests run on what AWS runs. pyenv's shims hide a pyenv
# Python from uv, so name it by path when pyenv has one; otherwise uv finds (or installs) 3.13.
PYTHON313 := $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13))
export UV_PYTHON ?= $(or $(PYTHON313),3.13)
PYTEST = $(UV) run --frozen pytest
# The stock AI SDK chat engines (npm `ai` 5, 6 and 7) that tests/integration/test_stock_clients.py drives.
STOCK_CLIENTS := tests/clients
# The page: frontend/src and its npm libraries, bundled by esbuild into frontend/dist (git-ignored).
PAGE := frontend
PAGE_SOURCES := $(shell find $(PAGE)/src -type f) $(PAGE)/index.html $(PAGE)/favicon.svg $(PAGE)/build.mjs

install: $(STOCK_CLIENTS)/node_modules/.package-lock.json $(PAGE)/dist/index.html  ## uv (if missing), the Python environment, the Node test clients and the page, from their lock files
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen

# Installed again only when the lock file or package.json is newer than the installed tree.
$(STOCK_CLIENTS)/node_modules/.package-lock.json: $(STOCK_CLIENTS)/package-lock.json $(STOCK_CLIENTS)/package.json
	npm ci --prefix $(STOCK_CLIENTS)
	@touch $@

$(PAGE)/node_modules/.package-lock.json: $(PAGE)/package-lock.json $(PAGE)/package.json
	npm ci --prefix $(PAGE)
	@touch $@

# Built again only when a source is newer than the page.
$(PAGE)/dist/index.html: $(PAGE)/node_modules/.package-lock.json $(PAGE_SOURCES)
	npm run --silent build --prefix $(PAGE)

dev: install        ## run Chimera on embedded defaults: http://127.0.0.1:8000
	$(UV) run --frozen chimera dev

test: install lint  ## every suite, cheapest first
	$(PYTEST) tests/unit tests/integration tests/infra tests/e2e

test-unit:
	$(PYTEST) tests/unit

test-integration:
	$(PYTEST) tests/integration

test-infra:
	$(PYTEST) tests/infra

test-e2e:
	$(PYTEST) tests/e2e

lint:
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy

format:
	$(UV) run --frozen ruff format .
	$(UV) run --frozen ruff check --fix .

bench:              ## the performance yardstick (issue 11): added TTFT and gaps at 1, 100 and 1,000 streams, saved chats/s, database statements/s, memory, cold start, history latency; then routing's cost per turn. Table on stdout, JSON in .benchmarks/
	$(UV) run --frozen python -m tests.bench.run
	$(UV) run --frozen python -m tests.bench.routing --iterations 20000

layer:              ## the Lambda dependency layer in layers/build (arm64, from uv.lock, no Docker)
	$(UV) run --frozen python -m layers.build_layer

layers/build:
	$(MAKE) layer

synth: layers/build $(PAGE)/dist/index.html ## CloudFormation templates in cdk.out, offline once the layer and the page are built
	JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1 $(UV) run --frozen python -m infra.app

# Context for the cdk CLI, e.g. make deploy CDK_ARGS="-c stage=prod -c allowedOrigins=https://chat.example.org"
CDK_ARGS ?=

deploy: layer $(PAGE)/dist/index.html ## deploy the data, api and web stacks to the account of your AWS profile
	JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1 npx --yes aws-cdk@2 deploy --all $(CDK_ARGS)
