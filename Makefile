# Two commands for a newcomer: `make demo` and `make test`. Both bootstrap a fresh machine first:
# a venv in .venv with the pinned dependencies, Debian's chromium and redis-server, and the Elasticsearch
# distribution fetched through Maven into the cache (see adwatch/engine.py).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DEMO_OUT ?= out/demo

.PHONY: bootstrap venv chromium maven redis engine test demo clean

bootstrap: venv chromium maven redis engine

venv: $(INSTALLED)

$(INSTALLED): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

# $(call need,COMMAND,PACKAGE): install a Debian package when its command is missing (as root),
# otherwise say which command to run.
need = @command -v $(1) >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian's $(2) (apt-get)..."; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(2); \
	  else \
	    echo "$(1) is missing: run 'sudo apt-get install -y $(2)' and try again." >&2; exit 1; \
	  fi; }

# Playwright drives Debian's chromium; it never downloads a browser of its own.
chromium:
	$(call need,chromium,chromium)

# Crawl processes that share a frontier (`adwatch crawl SITE --frontier`) meet in Redis; the tests start their own.
redis:
	$(call need,redis-server,redis-server)

# Maven fetches the Elasticsearch distribution.
maven:
	$(call need,mvn,maven)

# Fetches the pinned Elasticsearch distribution (once; cached) and checks for a Java 21+ runtime.
engine: venv maven
	$(BIN)/adwatch engine fetch

# The suite waits more than it computes (nodes starting, crawls paced, processes killed and rerun):
# TEST_WORKERS pytest-xdist processes take whole test files each (module fixtures stay one per file),
# every process with its session node of its own.
TEST_WORKERS ?= 2

test: bootstrap
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

demo: bootstrap
	$(BIN)/adwatch demo run --out $(DEMO_OUT) $(if $(KEEP_ENGINE),--keep-engine,)

clean:
	rm -rf $(VENV) out .pytest_cache
