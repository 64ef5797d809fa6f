# crmsim: `make run` serves every vendor on http://127.0.0.1:8080, `make test` runs the checks.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.crmsim-installed

.PHONY: install run test lint format typecheck pytest clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/crmsim serve

test: lint typecheck pytest

lint: install
	$(BIN)/ruff check simulator tests
	$(BIN)/ruff format --check simulator tests

format: install
	$(BIN)/ruff check --fix simulator tests
	$(BIN)/ruff format simulator tests

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest -q -p no:cacheprovider

clean:
	rm -rf $(VENV) build *.egg-info
