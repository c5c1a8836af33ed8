# Podpiska: `make run` and `make test` work on a fresh machine (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help system-packages assets browser messages install run serve test lint types contracts pytest bench format clean

help:
	@echo "make run   - set up everything and start Podpiska on http://127.0.0.1:8000 (PORT=8611: another port)"
	@echo "make test  - set up everything and run lint, types, import contracts and all tests"
	@echo "make bench - run the benchmarks in bench/ (PostgreSQL for two of them), record them"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

# WeasyPrint (PDF documents) needs Pango, HarfBuzz's subsetter and a font with Cyrillic;
# the tests read PDFs back with poppler's pdftotext. Installed with apt where it can be.
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core poppler-utils

system-packages:
	@command -v dpkg-query >/dev/null || { echo "no dpkg: install Pango, HarfBuzz, DejaVu fonts and poppler yourself" >&2; exit 0; }; \
	missing=$$(for p in $(SYSTEM_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	echo "installing system packages:" $$missing; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; else \
		echo "missing system packages (run as root: apt-get install $$missing)" >&2; exit 1; fi; \
	$$SUDO apt-get install -y --no-install-recommends $$missing >/dev/null 2>&1 || \
		{ $$SUDO apt-get update -qq && $$SUDO apt-get install -y --no-install-recommends $$missing >/dev/null; }

# The web application's front-end packages (htmx 2, Chart.js 4, Pico CSS 2, and Swagger UI 5
# for the API's /docs) come from the npm registry, pinned in package-lock.json, and are copied
# to a git-ignored folder it serves.
WEB := src/podpiska/entrypoints/web
ASSETS := $(WEB)/assets
VENDOR_STATIC := $(WEB)/static/vendor
ASSETS_STAMP := $(VENDOR_STATIC)/.installed-stamp
VENDOR_FILES := htmx.org/dist/htmx.min.js chart.js/dist/chart.umd.min.js @picocss/pico/css/pico.min.css
SWAGGER_FILES := swagger-ui-bundle.js swagger-ui.css favicon-32x32.png

$(ASSETS_STAMP): $(ASSETS)/package.json $(ASSETS)/package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js and npm (apt-get install npm) for the web assets" >&2; exit 1; }
	@cd $(ASSETS) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@mkdir -p $(VENDOR_STATIC)
	@for f in $(VENDOR_FILES); do cp $(ASSETS)/node_modules/$$f $(VENDOR_STATIC)/ || exit 1; done
	@mkdir -p $(VENDOR_STATIC)/swagger-ui
	@for f in $(SWAGGER_FILES); do cp $(ASSETS)/node_modules/swagger-ui-dist/$$f $(VENDOR_STATIC)/swagger-ui/ || exit 1; done
	@touch $@

assets: $(ASSETS_STAMP)

install: system-packages $(STAMP) assets

# The browser tests drive Debian's chromium through Playwright (never `playwright install`):
# installed for `make test` when missing (~25 s).
CHROMIUM ?= /usr/bin/chromium

browser:
	@if [ -x "$(CHROMIUM)" ]; then exit 0; fi; \
	command -v apt-get >/dev/null || { echo "no $(CHROMIUM) and no apt-get: install Chromium yourself" >&2; exit 1; }; \
	echo "installing chromium for the browser tests"; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; else \
		echo "chromium is missing (run as root: apt-get install chromium)" >&2; exit 1; fi; \
	$$SUDO apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 || \
		{ $$SUDO apt-get update -qq && $$SUDO apt-get install -y --no-install-recommends chromium >/dev/null; }

# The web's texts (docs/web.md): extract them from the code and templates, then update the
# ru and en catalogs; translate the new entries in locale/ru/LC_MESSAGES/messages.po.
# The catalogs are compiled in memory when the application starts.
messages: install
	$(BIN)/pybabel extract --no-location --sort-output -F $(WEB)/babel.cfg -o $(WEB)/locale/messages.pot src/podpiska/entrypoints/web
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date -i $(WEB)/locale/messages.pot -d $(WEB)/locale

# `make run PORT=8611 HOST=0.0.0.0`: the public URL (return URLs, the sandbox's webhooks)
# follows the served address unless PODPISKA_PUBLIC_URL is set.
PORT ?=
HOST ?=

SERVED := $(if $(HOST),PODPISKA_HOST=$(HOST)) $(if $(PORT),PODPISKA_PORT=$(PORT))

run: install
	$(SERVED) $(BIN)/podpiska init --demo
	$(SERVED) $(BIN)/podpiska serve

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

types: install
	$(BIN)/mypy

contracts: install
	$(BIN)/lint-imports

pytest: install browser
	$(BIN)/pytest --durations=30

test: lint types contracts pytest

bench: install
	$(BIN)/python bench/quote.py --record
	$(BIN)/python bench/lifecycle.py --record
	$(BIN)/python bench/changes.py --record
	$(BIN)/python bench/statements.py --record
	$(BIN)/python bench/impact.py --record
	$(BIN)/python bench/entitlements.py --record

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache .hypothesis test-artifacts \
		$(ASSETS)/node_modules $(VENDOR_STATIC)

# Migrations (docs/database.md): `make migration MESSAGE="add payments.refunded_at"` writes
# the next revision from a scratch SQLite database at head; `make migration INITIAL=1`
# rewrites 0001_initial from the models (only before the first release).
.PHONY: migration
migration: install
	@if [ -n "$(INITIAL)" ]; then \
		$(BIN)/python -m podpiska.migrate initial; \
	elif [ -n "$$MESSAGE" ]; then \
		$(BIN)/python -m podpiska.migrate revision "$$MESSAGE"; \
	else \
		echo 'usage: make migration MESSAGE="add payments.refunded_at"  (or INITIAL=1)' >&2; \
		exit 2; \
	fi
