# Two commands for a newcomer: `make demo` and `make test`. Both bootstrap a fresh machine first:
# a venv in .venv with the pinned dependencies, Debian's chromium, and the Elasticsearch
# distribution fetched through Maven into the cache (see adwatch/engine.py).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DEMO_OUT ?= out/demo

.PHONY: bootstrap venv chromium maven engine test demo clean

bootstrap: venv chromium maven engine

venv: $(INSTALLED)

$(INSTALLED): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

# Playwright drives Debian's chromium; it never downloads a browser of its own.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian's chromium (apt-get)..."; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  else \
	    echo "chromium is missing: run 'sudo apt-get install -y chromium' and try again." >&2; exit 1; \
	  fi; }

maven:
	@command -v mvn >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Maven (apt-get) to fetch Elasticsearch..."; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q maven; \
	  else \
	    echo "mvn is missing: run 'sudo apt-get install -y maven' and try again." >&2; exit 1; \
	  fi; }

# Fetches the pinned Elasticsearch distribution (once; cached) and checks for a Java 21+ runtime.
engine: venv maven
	$(BIN)/adwatch engine fetch

test: bootstrap
	$(BIN)/pytest

demo: bootstrap
	$(BIN)/adwatch demo run --out $(DEMO_OUT) $(if $(KEEP_ENGINE),--keep-engine,)

clean:
	rm -rf $(VENV) out .pytest_cache
