# Reelstack: `make run` serves everything on http://127.0.0.1:8000, `make test` checks it all.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
WEB_OUT := src/reelstack/web/index.html
# The PostgreSQL pass of the suite (CI has one on 127.0.0.1:5432, trust auth).
TEST_PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/reelstack_test
PYTEST_ARGS ?=
PG_CHECK = $(BIN)/python -c "import sys; from sqlalchemy import create_engine; \
	from sqlalchemy.engine import make_url; u = make_url(sys.argv[1]).set(database='postgres'); \
	create_engine(u, connect_args={'connect_timeout': 3}).connect().close()"

.PHONY: run install lock web api-client lint test test-sqlite test-postgres bench-transcode bench-playback bench-keys bench-edge clean

# requirements.lock pins every transitive dependency (refresh: make lock).
$(BIN)/reelstack: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

lock: install
	$(BIN)/pip freeze --exclude-editable | grep -v '^reelstack' > requirements.lock

install: $(BIN)/reelstack

$(WEB_OUT): web-src/package-lock.json web-src/package.json web-src/index.html web-src/vite.config.ts $(shell find web-src/src -type f 2>/dev/null)
	cd web-src && npm ci --no-audit --no-fund && npm run build

web: $(WEB_OUT)

# Regenerate the web client's types from the API (a test fails when they are stale).
api-client: install
	$(BIN)/reelstack openapi --ts web-src/src/api/schema.gen.ts

run: install web
	$(BIN)/reelstack run

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

test-sqlite: install web
	$(BIN)/pytest $(PYTEST_ARGS)

# Runs when PostgreSQL answers; under CI=true it must.
test-postgres: install web
	@if $(PG_CHECK) $(TEST_PG_URL) 2>/dev/null; then \
		REELSTACK_TEST_DATABASE_URL=$(TEST_PG_URL) $(BIN)/pytest $(PYTEST_ARGS); \
	elif [ "$$CI" = "true" ]; then echo "PostgreSQL unreachable at $(TEST_PG_URL) (required in CI)"; exit 1; \
	else echo "SKIPPED the PostgreSQL pass: nothing answers at $(TEST_PG_URL)"; fi

test: lint test-sqlite test-postgres

bench-transcode: install
	$(BIN)/python bench/transcode.py

bench-playback: install
	$(BIN)/python bench/playback.py

bench-keys: install
	$(BIN)/python bench/keys.py

# Needs nginx with njs and wrk (apt-get install nginx libnginx-mod-http-js wrk).
bench-edge: install
	$(BIN)/python bench/edge.py

clean:
	rm -rf $(VENV) var web-src/node_modules src/reelstack/web/assets src/reelstack/web/index.html
