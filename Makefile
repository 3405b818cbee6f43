# `make run` sets everything up and starts the bot; `make test` runs the tests (as CI does).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench

$(BIN)/newsbot: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of torch must come first: an unpinned torch pulls a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

run: $(BIN)/newsbot
	$(BIN)/newsbot run

test: $(BIN)/newsbot
	$(BIN)/python -m pytest

lint: $(BIN)/newsbot
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy bot retrieval

bench: $(BIN)/newsbot
	$(BIN)/python benchmarks/bench_core.py
