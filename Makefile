# crmsim: `make run` serves every vendor on http://127.0.0.1:8080, `make test` runs the checks.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.crmsim-installed

.PHONY: install run test lint format typecheck pytest bench mutation clean

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
	$(BIN)/pytest -q -p no:cacheprovider -n auto

# Served crmsim under wrk at 1,000 / 100,000 / 1,000,000 records, side by side with WireMock's
# static stub (jar from npm's wiremock package, cached in bench/.cache/); writes bench/RESULTS.md.
# Not part of `make test`. Quicker: make bench BENCH_ARGS='--sizes 1000,100000 --repeat 1'
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Mutation score per module with the tests that reach it (mutmut); not part of `make test`.
# One module: make mutation MODULES=faults. Equivalent mutants: tests/mutation/equivalent.txt.
mutation: install
	$(BIN)/python tests/mutation/run.py $(MODULES)

clean:
	rm -rf $(VENV) build *.egg-info
