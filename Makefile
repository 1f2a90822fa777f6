# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install -q -e .

install-dev: $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'

demo: install
	$(BIN)/creditdsl check rulebooks/rongcheng.rulebook

test: install-dev
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build dist .pytest_cache .hypothesis
