# Locker: `make run` serves on http://127.0.0.1:8000 (SQLite, no other setup); `make test` runs everything.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
# A local plain-HTTP server: cookies without the Secure flag, no HTTPS redirect.
RUN_ENV := LOCKER_HTTPS=$${LOCKER_HTTPS:-0}

.PHONY: run test lint audit fuzz bench install install-dev migrate clean

$(VENV)/.installed: requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	$(PIP) install --quiet --no-deps -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PIP) install --quiet -r requirements-dev.txt
	@touch $@

$(VENV)/.installed-audit: $(VENV)/.installed-dev requirements-audit.txt
	$(PIP) install --quiet -r requirements-audit.txt
	@touch $@

$(VENV)/.installed-bench: $(VENV)/.installed-dev requirements-bench.txt
	$(PIP) install --quiet -r requirements-bench.txt
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(RUN_ENV) $(PY) manage.py migrate --noinput

run: migrate
	$(RUN_ENV) $(PY) manage.py collectstatic --noinput -v0
	@$(RUN_ENV) $(PY) manage.py locker_status
	$(RUN_ENV) WEB_BIND=$(HOST):$(PORT) $(VENV)/bin/gunicorn -c locker/gunicorn.conf.py

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/bandit -c pyproject.toml -r accounts activity chats locker vault --severity-level medium --quiet

# Known vulnerabilities in the pinned requirements (needs the network: PyPI's and OSV's advisory databases).
audit: $(VENV)/.installed-audit
	$(VENV)/bin/pip-audit --disable-pip --no-deps -r requirements.txt -r requirements-dev.txt

test: lint
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Schema fuzzing, longer than the bounded pass in `make test` and with a new seed each time: FUZZ_ARGS="--seed N"
# repeats a run, "--examples N" sets its length (tests/fuzz.py).
fuzz: install-dev
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) -m tests.fuzz --examples 40 $(FUZZ_ARGS)

bench: $(VENV)/.installed-bench
	$(PY) bench/run.py $(BENCH)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
