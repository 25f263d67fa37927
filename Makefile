# scorpio-sim: `make run` serves the simulator, `make test` runs the suite.
# Both create .venv and install the project on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install browser run test test-all lint clean

install: $(STAMP)

# Re-installs only when the project's metadata changes, so repeated runs are quick.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

# The same gunicorn config file the Dockerfile runs; SCORPIO_SIM_BIND picks the address.
run: install
	exec $(BIN)/gunicorn --config gunicorn.conf.py

# Debian's Chromium for the browser tests (tests/e2e): Playwright drives it, never `playwright install`.
browser:
	@test -x /usr/bin/chromium || { \
	  SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	  $$SUDO apt-get update && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; }

test: install browser
	$(BIN)/python -m pytest

# Everything, slow soaks and load tests included.
test-all: install browser
	$(BIN)/python -m pytest -m ''

lint: install
	$(BIN)/ruff check simulator tests tools examples
	$(BIN)/ruff format --check simulator tests tools examples

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
