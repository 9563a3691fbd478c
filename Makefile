# Two commands set everything up: `make run` (serve the forum) and `make test` (run the suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
HOST ?= 127.0.0.1
FLASK := $(BIN)/flask --app forum
TEST_WORKERS ?= 2

.PHONY: run install test lint format translations extract-messages db-upgrade clean node-tools

# The virtualenv, from the lock file (exact versions), then the project itself (editable).
$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e . 2>/dev/null || \
		$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

install: $(VENV)/.installed translations

# Test-only tools from the npm registry (axe-core for tests/test_accessibility.py), exact versions
# from package-lock.json; nothing under node_modules/ is served.
node_modules/axe-core/axe.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

node-tools: node_modules/axe-core/axe.min.js

# Compiled catalogues (.mo) are built, not committed.
translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d forum/translations

extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ -k lazy_gettext -o forum/translations/messages.pot .
	$(BIN)/pybabel update -i forum/translations/messages.pot -d forum/translations

db-upgrade: install
	$(FLASK) db upgrade

run: db-upgrade
	$(FLASK) seed-demo
	@echo "Serving the forum at http://$(HOST):$(PORT)"
	$(FLASK) run --host $(HOST) --port $(PORT)

test: install node-tools
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts node_modules
