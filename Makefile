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

.PHONY: run install install-test migrate seed check test bench browsers proxy clean-web backup restore

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

migrate: install
	$(VENV)/bin/reflex db migrate

seed: migrate
	@if [ "$${PORTAL_SEED_DEMO:-1}" != "0" ] && [ "$${PORTAL_SEED_DEMO:-1}" != "false" ]; then \
	  $(PY) -m seed --if-empty; else echo "Demo seeding is off (PORTAL_SEED_DEMO)."; fi

# `exec` hands the terminal's Ctrl-C and a SIGTERM to portal_app/serve.py, which passes them to every server process.
# Several worker processes only with Redis (without it, page state lives in the one process's memory).
# `--forwarded-allow-ips ''` (last, so it wins): uvicorn believes X-Forwarded-For from nobody and leaves the peer
# address alone; the app decides the client address itself from PORTAL_TRUSTED_PROXIES (portal_app/client_address.py).
run: seed
	if [ -n "$${REFLEX_REDIS_URL:-}" ]; then workers="$${PORTAL_WORKERS:-$$(( $$(nproc) * 2 + 1 ))}"; else workers=1; fi; \
	export GUNICORN_CMD_ARGS="--workers $$workers --graceful-timeout 10 $${GUNICORN_CMD_ARGS:-} --forwarded-allow-ips=''"; \
	NPM_CONFIG_REGISTRY="$${NPM_CONFIG_REGISTRY:-$$($(VENV)/bin/npm config get registry 2>/dev/null)}" \
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

clean-web:
	rm -rf .web
