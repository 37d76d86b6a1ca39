# The two commands a newcomer types (see README.md):
#   make demo   set everything up, then a short VL-DAC run on a tiny offline model
#   make test   set everything up, then the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint

$(BIN)/vldac: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first and pinned, so no other package can pull a different (CUDA) build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[gymcards,dev]"
	touch $(BIN)/vldac

setup: $(BIN)/vldac

demo: setup
	$(BIN)/vldac train --config config.yaml --preset demo

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check src tests
