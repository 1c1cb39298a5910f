# Two commands for a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
export REGISTRY_INSTANCE ?= $(CURDIR)/instance
# The development server prints its own address into every QR code: PUBLIC_HOST follows PORT
# unless it is given (PORT=5301 make run → labels carry 127.0.0.1:5301).
export PUBLIC_HOST ?= 127.0.0.1:$(PORT)

# Exact versions with their hashes (pip-tools); `make lock` makes them again from pyproject.toml.
DEV_LOCK  := requirements/dev.lock
PROD_LOCK := requirements/prod.lock
LOCK_TOOLS := .lock-tools
# Kept pins stay unless asked: `make lock LOCK_ARGS=--upgrade` (or --upgrade-package NAME).
LOCK_ARGS ?=

.PHONY: run test lint typecheck mutation translations extract-messages venv lock bench clean axe

venv: $(VENV)/.installed

# The lock pins pip and setuptools too, so the editable install builds with the locked
# setuptools (no build isolation: nothing is fetched unhashed).
$(VENV)/.installed: $(DEV_LOCK) pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# pip-tools lives in its own venv: the project's venv holds exactly the lock.
lock:
	$(PYTHON) -m venv $(LOCK_TOOLS)
	$(LOCK_TOOLS)/bin/pip install --quiet --upgrade pip-tools
	$(LOCK_TOOLS)/bin/pip-compile --quiet $(LOCK_ARGS) --generate-hashes --allow-unsafe \
		--strip-extras --no-emit-index-url --no-emit-find-links \
		--build-deps-for editable --extra dev -o $(DEV_LOCK) pyproject.toml
	$(LOCK_TOOLS)/bin/pip-compile --quiet $(LOCK_ARGS) --generate-hashes --allow-unsafe \
		--strip-extras --no-emit-index-url --no-emit-find-links \
		--build-deps-for editable -o $(PROD_LOCK) pyproject.toml

translations: venv
	$(BIN)/pybabel compile -d registry/translations --statistics
	$(BIN)/pybabel compile -D wtforms -d registry/translations --statistics

extract-messages: venv
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o registry/translations/messages.pot .
	$(BIN)/pybabel update -i registry/translations/messages.pot -d registry/translations --no-fuzzy-matching

run: translations
	$(BIN)/flask --app registry db upgrade
	$(BIN)/flask --app registry keys ensure
	$(BIN)/flask --app registry demo
	$(BIN)/flask --app registry audit checkpoint >/dev/null
	# The task queue's worker (label jobs) beside the web server, on the SQLite queue file in
	# the instance folder; it stops with the server (Ctrl-C reaches both).
	$(BIN)/flask --app registry worker --workers 1 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT; \
	$(BIN)/flask --app registry run --host 127.0.0.1 --port $(PORT)

# axe-core, which the accessibility test injects into every page (tests/browser/test_axe.py),
# at the version and hash of tests/browser/package-lock.json. Without npm the test skips and
# says why; CI (.ci/run) installs npm and sets REQUIRE_AXE=1, so there it fails instead.
AXE := tests/browser/node_modules/axe-core/axe.min.js
axe: $(AXE)
$(AXE): tests/browser/package.json tests/browser/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/browser --no-audit --no-fund --silent && touch $@; \
	else echo "npm not found: the axe-core accessibility test will be skipped"; fi

# The type checker runs before the suite: a wrong type fails in half a minute, not half an hour.
# Two test processes (pytest-xdist) for the two cores; each has its own PostgreSQL database
# and Redis database (tests/conftest.py). TEST_PROCESSES=0 runs the suite in one process.
TEST_PROCESSES ?= 2
test: translations typecheck axe
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n $(TEST_PROCESSES)

lint: venv
	$(BIN)/ruff check .

# mypy on registry/ at zero errors ([tool.mypy] in pyproject.toml says how strict).
typecheck: venv
	$(BIN)/mypy

# Mutation testing (Cosmic Ray) of the pure rule modules against their own unit tests, with the
# score per module (README, "Mutation testing"); fails below 90 %. About half an hour on two
# cores, so neither `make test` nor CI runs it. JOBS=1 leaves a core free; one module and what
# survived: MUTATION_ARGS="--module registry/db/paging.py --survivors".
JOBS ?= 2
MUTATION_ARGS ?=
mutation: venv
	$(BIN)/python tests/mutation.py --jobs $(JOBS) --fail-under 90 $(MUTATION_ARGS)

bench: venv
	$(BIN)/python bench/labels.py

clean:
	rm -rf $(VENV) $(LOCK_TOOLS) instance .pytest_cache .ruff_cache .mypy_cache tests/browser/node_modules
