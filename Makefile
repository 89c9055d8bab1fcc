# `make run` and `make test` work on a fresh machine: they create .venv, install requirements.txt,
# migrate, and install the Debian packages the product needs at run time (exiftool, which export
# writes capture times with) and, for tests, the browser the page tests drive.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-postgres bench setup compile exiftool browser clean

$(INSTALLED): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $(INSTALLED)

# Byte-compiled as an installed package is, so that no command compiles the project's sources
# at every start where PYTHONDONTWRITEBYTECODE is set (a tenth of a second per command).
compile: $(INSTALLED)
	$(PY) -m compileall -q mediaimport jobs benchmarks

setup: $(INSTALLED) compile exiftool
	$(PY) manage.py migrate --noinput
	$(PY) manage.py ensure_admin

# The web server and the cluster together; Ctrl-C (or either one ending) stops both, within ten
# seconds: the cluster puts what its batches had left back on the queue, and the web server gives
# requests in flight three seconds (mediaimport/gunicorn.conf.py; an upload cut off stores nothing).
run: setup
	@echo "mediaimport at http://$(HOST):$(PORT)/ (Ctrl-C stops it)"
	@trap 'kill $$(jobs -p) 2>/dev/null; wait' EXIT; trap 'exit 0' INT TERM; \
	$(PY) manage.py qcluster & \
	$(VENV)/bin/gunicorn mediaimport.wsgi -c mediaimport/gunicorn.conf.py --bind $(HOST):$(PORT) \
		--workers 2 --threads 4 --timeout 300 --graceful-timeout 5 --access-logfile - & \
	wait -n

# Debian packages, installed once when their command is missing: exiftool (libimage-exiftool-perl)
# for export's metadata writes, Debian's Chromium for the Playwright browser tests (Playwright
# cannot fetch its own here).
APT_INSTALL = SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq

exiftool:
	@command -v exiftool >/dev/null || { $(APT_INSTALL) libimage-exiftool-perl; }

browser:
	@command -v chromium >/dev/null || { $(APT_INSTALL) chromium; }

test: $(INSTALLED) exiftool browser
	$(PY) -m pytest

# The integration tests against a throwaway PostgreSQL server (installed with apt-get when
# missing, run as an unprivileged user in a temporary folder, removed afterwards), including two
# clusters sharing one job, and two of which one is killed. Needs root or sudo the first time, to
# install PostgreSQL.
POSTGRES_TESTS ?= tests/test_postgres.py tests/test_cluster.py tests/test_import_path.py \
	tests/test_processing_claims.py tests/test_remote_storage.py tests/test_corrections.py tests/test_review.py \
	tests/test_liveness.py tests/test_crash_safety.py \
	$(wildcard tests/test_api*.py tests/test_control*.py tests/test_uploads.py)
test-postgres: $(INSTALLED)
	scripts/with-postgres $(PY) -m pytest $(POSTGRES_TESTS)

bench: $(INSTALLED) compile
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache test-output
