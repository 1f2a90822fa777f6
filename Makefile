# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test install install-dev clean bytecode

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Stamps: re-install only when the package definition changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

# The package's bytecode, written even where PYTHONDONTWRITEBYTECODE is set (an editable
# install compiles nothing): every `creditdsl` start then reads it instead of compiling
# the sources again (about a third of a second each here). Up-to-date files are skipped.
bytecode: | $(BIN)/python
	$(BIN)/python -m compileall -q src/creditdsl > /dev/null

demo: install bytecode
	$(BIN)/creditdsl run rulebooks/rongcheng.rulebook examples/rongcheng/events.jsonl

test: install-dev bytecode
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build dist .pytest_cache .hypothesis

# Long fuzzing and property profile (issue 8): a hundred times the default examples.
.PHONY: fuzz
fuzz: install-dev
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q -p no:cacheprovider tests/property

# Issue 9: creditdsl run vs a hand-written fold (docs/performance.md); BENCH_EVENTS=100000 for a quick look.
.PHONY: bench
bench: install bytecode
	$(BIN)/python bench/run.py
