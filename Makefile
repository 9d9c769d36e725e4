# The README's commands. Every target installs what is missing first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
EMULATOR_PORT ?= 8900

.PHONY: install serve test lint typecheck unit emulator demo crawl bench clean

install: $(INSTALLED)

$(INSTALLED): requirements.txt requirements-dev.txt constraints.txt scripts/install-system-deps.sh
	PYTHON="$(PYTHON)" bash scripts/install-system-deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $@

test: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(INSTALLED)
	$(BIN)/mypy

serve: $(INSTALLED)
	$(BIN)/python -m bridge

emulator: $(INSTALLED)
	$(BIN)/python -m emulator --port $(EMULATOR_PORT)

bench: $(INSTALLED)
	$(BIN)/python -m bench.crawl_latency

demo: $(INSTALLED)
	EMULATOR_PORT=$(EMULATOR_PORT) bash scripts/demo.sh

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
