# costattr: every command installs what it needs first (pinned by requirements.lock).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DAGSTER_HOME ?= $(CURDIR)/.costattr/dagster_home

.PHONY: install demo test chromium postgresql ui bench lock clean focus-validator

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

test: $(STAMP) chromium postgresql  ## install and run the whole test suite
	$(BIN)/python -m pytest -n 2 --dist loadfile

# The browser tests drive Debian's chromium (Playwright's own browser download is not used). Installed
# when it is missing and we run as root (CI); otherwise nothing happens and those tests say they skip.
chromium:
	@if ! command -v chromium >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

# The production-instance test starts a throwaway server of Debian's postgresql (the bench's
# --instance postgres too). Installed like chromium: when missing and we run as root (CI).
postgresql:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	fi

ui: $(STAMP) $(DAGSTER_HOME)/dagster.yaml  ## the Dagster UI on http://127.0.0.1:3000 (run `make demo` first for data)
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/dagster dev -w workspace.yaml

bench: $(STAMP)  ## the benchmark at default scale (see docs/benchmarks.md)
	$(BIN)/costattr bench

lock:  ## re-resolve requirements.lock from pyproject.toml
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) .costattr data/sample

# The FinOps Foundation's focus-validator needs Python >= 3.12 (costattr runs on 3.11): its own venv, pinned by
# costattr_pipeline_tests/focus_validator_requirements.txt. The FOCUS export's conformance test runs this target.
FOCUS_VALIDATOR_VENV := .costattr/focus-validator-venv
FOCUS_VALIDATOR_REQUIREMENTS := costattr_pipeline_tests/focus_validator_requirements.txt
FOCUS_VALIDATOR_PYTHON ?= python3.12

$(FOCUS_VALIDATOR_VENV)/.installed: $(FOCUS_VALIDATOR_REQUIREMENTS)
	rm -rf $(FOCUS_VALIDATOR_VENV)
	PYENV_VERSION=$${PYENV_VERSION:-3.12.1} $(FOCUS_VALIDATOR_PYTHON) -m venv $(FOCUS_VALIDATOR_VENV)
	$(FOCUS_VALIDATOR_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r $(FOCUS_VALIDATOR_REQUIREMENTS)
	touch $@

focus-validator: $(FOCUS_VALIDATOR_VENV)/.installed  ## the FOCUS conformance validator in its own Python 3.12 venv
