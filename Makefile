# Podpiska: `make run` and `make test` work on a fresh machine (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help install run serve test lint types contracts pytest bench format clean

help:
	@echo "make run   - set up everything and start Podpiska on http://127.0.0.1:8000"
	@echo "make test  - set up everything and run lint, types, import contracts and all tests"
	@echo "make bench - run the benchmarks in bench/ (PostgreSQL for two of them), record them"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/podpiska init --demo
	$(BIN)/podpiska serve

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

types: install
	$(BIN)/mypy

contracts: install
	$(BIN)/lint-imports

pytest: install
	$(BIN)/pytest

test: lint types contracts pytest

bench: install
	$(BIN)/python bench/quote.py --record
	$(BIN)/python bench/lifecycle.py --record
	$(BIN)/python bench/changes.py --record

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache .hypothesis

# Migrations (docs/database.md): `make migration MESSAGE="add payments.refunded_at"` writes
# the next revision from a scratch SQLite database at head; `make migration INITIAL=1`
# rewrites 0001_initial from the models (only before the first release).
.PHONY: migration
migration: install
	@if [ -n "$(INITIAL)" ]; then \
		$(BIN)/python -m podpiska.db.migrate initial; \
	elif [ -n "$$MESSAGE" ]; then \
		$(BIN)/python -m podpiska.db.migrate revision "$$MESSAGE"; \
	else \
		echo 'usage: make migration MESSAGE="add payments.refunded_at"  (or INITIAL=1)' >&2; \
		exit 2; \
	fi
