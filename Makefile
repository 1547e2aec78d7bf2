# costattr: every command installs what it needs first (pinned by requirements.lock).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DAGSTER_HOME ?= $(CURDIR)/.costattr/dagster_home

.PHONY: install demo test chromium ui bench lock clean

# --compile-bytecode: Python never has to compile the dependencies at import time. Where
# PYTHONDONTWRITEBYTECODE is set (as on CI machines), it otherwise compiles them again in every
# process: 10 s instead of 4.5 s to import dagster and the clients, in every command and test worker.
$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# The Dagster instance `make demo` records its runs in and `make ui` shows.
$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME) && cp dagster.yaml $@

demo: $(STAMP) $(DAGSTER_HOME)/dagster.yaml  ## install, generate sample data into data/sample, run every asset on DuckDB
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/costattr demo

test: $(STAMP) chromium  ## install and run the whole test suite
	$(BIN)/python -m pytest -n 2 --dist loadfile

# The browser tests drive Debian's chromium (Playwright's own browser download is not used). Installed
# when it is missing and we run as root (CI); otherwise nothing happens and those tests say they skip.
chromium:
	@if ! command -v chromium >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

ui: $(STAMP) $(DAGSTER_HOME)/dagster.yaml  ## the Dagster UI on http://127.0.0.1:3000 (run `make demo` first for data)
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/dagster dev -w workspace.yaml

bench: $(STAMP)  ## the benchmark at default scale (see docs/benchmarks.md)
	$(BIN)/costattr bench

lock:  ## re-resolve requirements.lock from pyproject.toml
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) .costattr data/sample
