# `make run` sets everything up and starts the bot; `make test` runs the tests (as CI does).
# The install is the README's manual one, with the venv's own pip (CI installs the same way).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench

$(BIN)/newsbot: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch's CPU build first (PyTorch's CPU index, else PyPI): see deploy/install-torch.sh.
	deploy/install-torch.sh $(VENV)
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
