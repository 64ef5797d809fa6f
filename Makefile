# crmsim: `make run` serves every vendor on http://127.0.0.1:8080, `make test` runs the checks.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.crmsim-installed

# `make run PORT=9000 HOST=0.0.0.0` (or CRMSIM_PORT/CRMSIM_HOST in the environment; the
# command line wins). `make wait` waits (at most WAIT_TIMEOUT seconds) until that crmsim
# answers. PORT and HOST come from the command line only: shells and platforms export
# variables of those names (zsh's HOST is the machine's name) that must not move crmsim.
ifneq ($(origin PORT),command line)
PORT := $(or $(CRMSIM_PORT),8080)
endif
ifneq ($(origin HOST),command line)
HOST := $(or $(CRMSIM_HOST),127.0.0.1)
endif
WAIT_TIMEOUT ?= 300
URL = http://$(if $(filter 0.0.0.0 ::,$(HOST)),127.0.0.1,$(HOST)):$(PORT)

.PHONY: install run wait test lint format typecheck pytest pytest-shared docs bench mutation clean

$(STAMP): pyproject.toml
	@echo "installing crmsim into $(VENV) (the first time takes a minute or two)" >&2
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@# bytecode now, as pip does for a wheel: a shell with PYTHONDONTWRITEBYTECODE would
	@# compile every module from source at each start (a tenth of a second of it)
	$(BIN)/python -m compileall -q simulator
	touch $(STAMP)

install: $(STAMP)

run: install
	CRMSIM_PORT=$(PORT) CRMSIM_HOST=$(HOST) $(BIN)/crmsim serve

# Needs only curl (the venv may still be installing under a `make run &`).
wait:
	@end=$$(( $$(date +%s) + $(WAIT_TIMEOUT) )); \
	until curl -sf -o /dev/null $(URL)/__sim/health; do \
	  if [ $$(date +%s) -ge $$end ]; then echo "crmsim did not answer on $(URL) within $(WAIT_TIMEOUT) s" >&2; exit 1; fi; \
	  sleep 0.5; \
	done; echo "crmsim is serving on $(URL)"

test: lint typecheck pytest pytest-shared

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

# The in-process suites again, every app serving its worlds from a redis-server
# (--store redis://..., docs/scale-out.md): the vendors, control plane and scenarios do not
# know which store they run on.
SHARED_SUITES = tests/contract tests/control tests/scenarios tests/property tests/unit tests/intercept tests/drift
pytest-shared: install
	$(BIN)/pytest -q -p no:cacheprovider -n auto --store-engine shared $(SHARED_SUITES)

# docs/python-api.md from the client's and the pytest plugin's docstrings (a test compares).
docs: install
	$(BIN)/python -m simulator.docgen

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
