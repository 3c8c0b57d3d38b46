# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
SANGSAENG_TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=

.PHONY: demo install dev test lint unit e2e serve worker i18n vendor clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev,spark]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

dev: $(VENV)/.dev-installed

## make demo — install, migrate the embedded SQLite database, seed demo data if empty, serve.
demo: install
	$(BIN)/sangsaeng db upgrade
	$(BIN)/sangsaeng demo seed --if-empty
	@$(BIN)/sangsaeng demo logins
	@echo ""
	@echo "  Sangsaeng is starting at http://$(HOST):$(PORT)/  (Ctrl+C stops the web app and the worker)"
	@echo ""
	@$(BIN)/sangsaeng worker & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/sangsaeng serve --host $(HOST) --port $(PORT)

serve: install
	$(BIN)/sangsaeng serve --host $(HOST) --port $(PORT)

worker: install
	$(BIN)/sangsaeng worker

## make test — dev extras, lint, import-layer contracts, the whole suite (PostgreSQL and browser).
test: dev lint
	@command -v chromium >/dev/null || { echo "Browser tests need Debian's chromium: apt-get install -y chromium"; exit 1; }
	SANGSAENG_TEST_POSTGRES_URL=$(SANGSAENG_TEST_POSTGRES_URL) $(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: dev
	$(BIN)/ruff check src tests benchmarks migrations scripts
	$(BIN)/ruff format --check src tests benchmarks migrations scripts
	$(BIN)/lint-imports

unit: dev
	$(BIN)/pytest -n 2 -m "not e2e" $(PYTEST_ARGS)

e2e: dev
	$(BIN)/pytest -m e2e $(PYTEST_ARGS)

## Translations: extract messages, then merge them into the Korean catalog.
i18n: dev
	$(BIN)/pybabel extract -F babel.cfg -k Msg -k _ -k gettext -k N_ --no-location --omit-header --no-wrap -o messages.pot .
	$(BIN)/pybabel update -i messages.pot -d src/sangsaeng/core/locales -l ko --no-wrap --omit-header --no-fuzzy-matching
	rm -f messages.pot

## Re-vendor front-end assets from the npm registry (committed; pages never load a CDN).
vendor:
	cd /tmp && npm pack htmx.org@2.0.11 plotly.js-strict-dist-min@3.7.0 swagger-ui-dist@5.35.0
	@echo "Unpack the archives in /tmp and copy the files listed in src/sangsaeng/core/web/static/vendor/README.md"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
