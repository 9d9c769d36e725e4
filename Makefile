# The README's commands. Every target installs what is missing first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
EMULATOR_PORT ?= 8900

.PHONY: install serve test lint typecheck emulator demo bench reliability clean scrapyd schedule

install: $(INSTALLED)

$(INSTALLED): requirements.txt requirements-dev.txt constraints.txt scripts/install-system-deps.sh
	PYTHON="$(PYTHON)" bash scripts/install-system-deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $@

# The whole suite: lint, types, the tests, then make reliability (what CI runs).
test: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -m "not reliability"
	$(MAKE) --no-print-directory reliability

# Fuzzing (schemathesis), abuse and leak checks, then a two-minute soak with faults on.
reliability: $(INSTALLED)
	$(BIN)/pytest -m reliability
	$(BIN)/python -m bench.soak --seconds 120 --clients 6

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
	bash scripts/install-bench-deps.sh && $(BIN)/python -m bench.bridge_latency
	$(BIN)/python -m bench.peer
	$(BIN)/python -m bench.bursts

demo: $(INSTALLED)
	EMULATOR_PORT=$(EMULATOR_PORT) bash scripts/demo.sh

scrapyd: $(INSTALLED)
	$(BIN)/python scripts/scrapyd.py start
	$(BIN)/python scripts/scrapyd.py deploy

schedule: $(INSTALLED)
	$(if $(SPIDER),,$(error usage: make schedule SPIDER=NAME ARGS="name=value ..."; NAME is any spider .venv/bin/scrapy list names))
	$(BIN)/python scripts/scrapyd.py schedule $(SPIDER) $(ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
