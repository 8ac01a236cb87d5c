# Sohbet developer commands (GNU make). `make` alone lists them.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# What is installed: the runtime requirements (make run), or those and the
# development tools (make test, make lint).
RUNTIME_STAMP := $(VENV)/.runtime-stamp
STAMP := $(VENV)/.requirements-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
ARGS ?=
PACKAGES := chatsite chat accounts telegram_bridge

.PHONY: help deps runtime-deps run test lint fmt audit bench

help:
	@echo "Sohbet -- make targets"
	@echo ""
	@echo "  make run     serve on http://$(HOST):$(PORT)/ with the embedded defaults"
	@echo "               (SQLite, in-memory channel layer, DJANGO_DEBUG=1): creates .venv,"
	@echo "               installs requirements.txt, migrates, ensures an operator account"
	@echo "               (ADMIN_USERNAME + ADMIN_PASSWORD), runs the server (Daphne)"
	@echo "  make test    the whole suite, set up from scratch: system packages (apt, as"
	@echo "               root), private PostgreSQL + Redis, pytest twice (PostgreSQL +"
	@echo "               Redis, then embedded defaults); ARGS=\"-k sync\" goes to pytest"
	@echo "  make lint    ruff format --check, ruff check, mypy"
	@echo "  make fmt     ruff format, ruff check --fix"
	@echo "  make audit   dependencies against known vulnerabilities (pip-audit; needs"
	@echo "               the network, says so without it)"
	@echo "  make bench   load benchmarks (see docs/performance.md)"
	@echo "  make deps    create .venv and install requirements-dev.txt if they changed"
	@echo "               (make run installs requirements.txt only)"

# --- virtualenv ------------------------------------------------------------------

$(PY):
	@echo "==> creating $(VENV)"
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "ERROR: '$(PYTHON) -m venv' failed; on Debian: apt-get install python3-venv" >&2; \
	  exit 1; }

# Reinstalls only when a requirements file is newer than the stamp. The
# development requirements include the runtime ones: installing them satisfies
# both stamps.
$(RUNTIME_STAMP): requirements.txt | $(PY)
	@if [[ -f $(STAMP) && ! requirements.txt -nt $(STAMP) ]]; then touch $@; else \
	  echo "==> installing requirements.txt into $(VENV)"; \
	  $(PY) -m pip install --disable-pip-version-check -q -r requirements.txt; \
	  touch $@; fi

$(STAMP): requirements.txt requirements-dev.txt | $(PY)
	@echo "==> installing requirements-dev.txt into $(VENV)"
	@$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	@touch $@ $(RUNTIME_STAMP)

deps: $(STAMP)

runtime-deps: $(RUNTIME_STAMP)

# --- run ------------------------------------------------------------------------------

run: export DJANGO_DEBUG := 1
run: runtime-deps
	@$(PY) manage.py migrate --noinput
	@$(PY) manage.py ensure_operator
	@echo ""
	@echo "  database:      $${DATABASE_URL:+DATABASE_URL (from the environment)}$${DATABASE_URL:-SQLite (embedded default)}"
	@echo "  channel layer: $${REDIS_URL:+Redis, REDIS_URL (from the environment)}$${REDIS_URL:-in-memory (embedded default)}"
	@echo "  starting the server on $(HOST):$(PORT) (Ctrl-C stops it)..."
	@echo ""
	@$(PY) -m chatsite.server -b $(HOST) -p $(PORT) --websocket-max-message-size 65536 --no-server-name \
	  chatsite.asgi:application

# --- checks -------------------------------------------------------------------------

test: deps
	@bash scripts/test.sh $(ARGS)

# All three run even when one fails, so CI shows every problem at once.
lint: deps
	@rc=0; \
	echo "==> ruff format --check"; $(VENV)/bin/ruff format --check . || rc=1; \
	echo "==> ruff check"; $(VENV)/bin/ruff check . || rc=1; \
	echo "==> mypy $(PACKAGES)"; DJANGO_DEBUG=1 $(VENV)/bin/mypy $(PACKAGES) || rc=1; \
	exit $$rc

fmt: deps
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

audit: deps
	@bash scripts/audit.sh

bench:
	@echo "see docs/performance.md"
