# The seminar portal. Quick start: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
HOST   ?= 127.0.0.1
export FLASK_APP := wsgi.py

.PHONY: run test install install-dev translations audit lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	@tools/system-deps.sh run   # first: PyICU builds against libicu-dev
	$(BIN)/pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed
	@tools/system-deps.sh run

install-dev: $(VENV)/.installed-dev
	@tools/system-deps.sh test

translations: $(VENV)/.installed
	@$(BIN)/pybabel compile --statistics -d portal/translations 2>&1 | grep -v '^compiling' || true

## Create the environment, migrate, load the seminar (with demo accounts when empty), serve.
run: install translations
	$(BIN)/flask db upgrade
	@$(BIN)/flask seminar load-plan --demo --if-empty
	@echo ""
	@echo "The portal: http://$(HOST):$(PORT)/   (stop with Ctrl+C; links in mail and .ics use $${PORTAL_BASE_URL:-http://$(HOST):$(PORT)})"
	@echo ""
	PORTAL_BASE_URL="$${PORTAL_BASE_URL:-http://$(HOST):$(PORT)}" $(BIN)/flask run --host $(HOST) --port $(PORT)

## Install what the tests need and run them all (SQLite, and PostgreSQL where it is installed).
test: install-dev translations
	@url=$$(tools/ensure-postgres.sh); \
	if [ -n "$$url" ] && [ -z "$${TEST_DATABASE_URL:-}" ]; then export TEST_DATABASE_URL="$$url"; \
	  echo "PostgreSQL tests: $$url"; fi; \
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Known vulnerabilities fail (exit 1); an audit that could not be done says
## "could not audit N packages" and fails too (exit 2) unless AUDIT_ARGS=--unaudited-ok.
audit: $(VENV)/.installed-dev
	$(BIN)/python tools/audit.py -r requirements.txt $(AUDIT_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache
