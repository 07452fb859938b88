# Two commands for people: `make run` (install, migrate, seed the demo, serve on http://localhost:3000)
# and `make test` (install test tools and Chromium, run the whole suite). See README.md.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(CURDIR)/$(VENV)/bin/python
PORTAL_HOST ?= 127.0.0.1
PORTAL_PORT ?= 3000
# The app reads the port too: without PORTAL_PUBLIC_URL, its own origin is http://localhost:$(PORTAL_PORT).
export PORTAL_HOST PORTAL_PORT

export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export REFLEX_TELEMETRY_ENABLED := false
export REFLEX_CHECK_LATEST_VERSION := false
export REFLEX_USE_NPM := 1
export PYTHONUNBUFFERED := 1
# The backend runs under gunicorn with uvicorn workers rather than Granian: each open page holds a websocket, and
# Granian reserves a fixed 128 KiB read buffer per websocket; see docs/decisions.md.
export REFLEX_USE_GRANIAN ?= false

.PHONY: run install install-test migrate seed check test faults bench browsers proxy clean-web backup restore \
	files-audit move-to-postgres

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements-test.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test browsers proxy

# Debian's Chromium drives the browser tests (Playwright cannot download its own browsers here).
browsers:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Chromium from Debian's packages..."; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Debian's nginx: the tests in tests/scaled/ put README's nginx block in front of the app (they start their own
# nginx on a free loopback port; RUNLEVEL=1 keeps the package from starting its own service on port 80).
proxy:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
	  echo "Installing nginx from Debian's packages..."; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $$SUDO apt-get install -y -qq nginx >/dev/null; }

# Both look first and do nothing when there is nothing to do (portal_app/prestart.py): `reflex db migrate` runs only
# when the database is not at the latest migration, `python -m seed --if-empty` only when the demo data is missing
# (PORTAL_SEED_DEMO=0 turns demo seeding off). `make run` does both in one process.
migrate: install
	$(PY) -m portal_app.prestart migrate

seed: migrate
	$(PY) -m portal_app.prestart seed

# `exec` hands the terminal's Ctrl-C and a SIGTERM to portal_app/serve.py, which passes them to every server process.
# It runs `reflex run` through portal_app/reflex_run.py: an unchanged front end is served as last built, not rebuilt.
# Several worker processes only with Redis (without it, page state lives in the one process's memory).
# `--forwarded-allow-ips ''` (last, so it wins): uvicorn believes X-Forwarded-For from nobody and leaves the peer
# address alone; the app decides the client address itself from PORTAL_TRUSTED_PROXIES (portal_app/client_address.py).
run: install
	$(PY) -m portal_app.prestart migrate seed
	if [ -n "$${REFLEX_REDIS_URL:-}" ]; then workers="$${PORTAL_WORKERS:-$$(( $$(nproc) * 2 + 1 ))}"; else workers=1; fi; \
	export GUNICORN_CMD_ARGS="--workers $$workers --graceful-timeout 10 $${GUNICORN_CMD_ARGS:-} --forwarded-allow-ips=''"; \
	exec $(PY) -m portal_app.serve run --env prod --backend-host $(PORTAL_HOST) \
	  --frontend-port $(PORTAL_PORT) --backend-port $(PORTAL_PORT)

# The checkers (settings in pyproject.toml): ruff on the whole tree, mypy on models/ and the services.
check: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# The suite runs in a random order (pytest-randomly), the tests that use the running app last; the seed is printed
# at the top. Repeat an order with PYTEST_ARGS="-p randomly --randomly-seed=N", or keep the files' order with
# PYTEST_ARGS="-p no:randomly".
test: install-test check
	$(PY) -m pytest $(PYTEST_ARGS)

# The fault tests alone (also part of `make test`): server processes killed, the database and Redis restarted, on
# private servers of their own (docs/operations.md, "Faults").
faults: install-test
	$(PY) -m pytest tests/faults $(PYTEST_ARGS)

bench: install-test migrate
	$(PY) -m bench $(BENCH_ARGS)

# Backups (docs/operations.md): `make backup [DIR=folder] [WITH_KEYS=1]` writes one .tar.gz (database, files,
# manifest; default folder <PORTAL_DATA_DIR>/backups); `make restore FILE=archive.tar.gz` restores it into an empty
# installation and checks every row count and file hash against the manifest.
backup: install
	$(PY) -m portal_app.backup create $(if $(DIR),--dir "$(DIR)") $(if $(filter 1 true yes,$(WITH_KEYS)),--with-keys)

restore: install
	@if [ -z "$(FILE)" ]; then echo "Usage: make restore FILE=path/to/portal-backup-....tar.gz" >&2; exit 2; fi
	$(PY) -m portal_app.backup restore "$(FILE)"

# `make files-audit` lists document rows whose file is missing and stored files without a row (changes nothing;
# exit status 1 when something is found). See docs/operations.md, "Files directory".
files-audit: install
	$(PY) -m portal_app.files_audit $(if $(filter 1 true yes,$(JSON)),--json)

# `make move-to-postgres TO=postgresql+psycopg://user:pass@host:5432/portal [FROM=sqlite:///...]` copies the database
# (default: REFLEX_DB_URL) into an empty PostgreSQL database, migrated to the latest migration first, and checks every
# table's row count (portal_app/db_move.py, docs/operations.md). Stop the app first.
move-to-postgres: install
	@if [ -z "$(TO)" ]; then echo "Usage: make move-to-postgres TO=postgresql+psycopg://user:pass@host:5432/portal" >&2; exit 2; fi
	@$(PY) -m portal_app.db_move --to "$(TO)" $(if $(FROM),--from "$(FROM)")

clean-web:
	rm -rf .web
