# Two commands for a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
export REGISTRY_INSTANCE ?= $(CURDIR)/instance

.PHONY: run test lint translations extract-messages venv bench clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

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
	$(BIN)/flask --app registry run --host 127.0.0.1 --port $(PORT)

test: translations
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff check .

bench: venv
	$(BIN)/python bench/labels.py

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
