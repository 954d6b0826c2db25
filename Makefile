# The two commands of the README: `make demo` and `make test`.
# Each creates .venv from pyproject.toml when it is missing or stale.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
T137_SHARED_DATA ?= $(abspath ../shared/data)
export T137_SHARED_DATA

.PHONY: demo test test-fast lint bench system-deps clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

system-deps:
	bash .ci/system-deps.sh

demo: $(STAMP)
	$(BIN)/t137 demo

test: system-deps $(STAMP)
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not e2e"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/assign.py
	$(BIN)/python bench/store.py

clean:
	rm -rf $(VENV) data/store data/generated .pytest_cache .mypy_cache .ruff_cache
