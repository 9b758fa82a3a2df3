# ACORN: `make run` starts everything on embedded defaults; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test install install-dev translations lint bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "ACORN needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Compiled catalogues are build output (not in git), rebuilt only when a .po file changes, so
# two `make test` runs started side by side (.ci/run) never rewrite a .mo another one reads.
PO_FILES := $(wildcard webapp/translations/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

translations: $(MO_FILES)

$(MO_FILES): %.mo: %.po | $(VENV)/.installed
	@$(BIN)/flask --app webapp translations compile

## Install, migrate, seed the demo vendor on first run, start web + worker + scheduler + sandbox.
run: install translations
	$(BIN)/python -m webapp.devstack

## Install the dev extras and run the whole test suite.
test: install-dev translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .

bench: install-dev translations
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance .pytest_cache
