# scorpio-sim: `make run` serves the simulator, `make test` runs the suite.
# Both create .venv and install the project on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install browser redis-server php node-example run test test-redis test-all lint clean

install: $(STAMP)

# Re-installs only when the project's metadata changes, so repeated runs are quick.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,redis]'
	@# Bytecode up front: with PYTHONDONTWRITEBYTECODE set, every start would compile the package again.
	@$(BIN)/python -m compileall -q simulator
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

# Debian's redis-server for the Redis tests (tests/redis): they start their own on a free loopback port.
redis-server:
	@command -v redis-server >/dev/null || test -x /usr/bin/redis-server || { \
	  SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	  $$SUDO apt-get update && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server; }

# Debian's php-cli for the PHP example (examples/php): its tests serve the wallet with `php -S`.
php:
	@command -v php >/dev/null || { \
	  SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	  $$SUDO apt-get update && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends php-cli; }

# The Node.js example (examples/node): Node.js and npm from Debian when missing, then Express from npm
# exactly as examples/node/package-lock.json pins it (node_modules is not committed).
node-example:
	@command -v node >/dev/null && command -v npm >/dev/null || { \
	  SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	  $$SUDO apt-get update && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm; }
	@test -f examples/node/node_modules/express/package.json || \
	  npm ci --prefix examples/node --no-audit --no-fund --loglevel=error

# The suite in two runs.  The in-process tests run on TEST_PROCESSES processes (pytest-xdist; one per
# core by default).  The tests that start servers or a browser (markers live and e2e) then run one at a
# time: their margins - a drain, a timeout, a held request - assume no other test busy on the cores.
TEST_PROCESSES ?= auto
IN_PROCESS     := -n $(TEST_PROCESSES) -m 'not slow and not live and not e2e'
ONE_AT_A_TIME  := -m 'not slow and (live or e2e)'

test: install browser redis-server php node-example
	$(BIN)/python -m pytest $(IN_PROCESS)
	$(BIN)/python -m pytest $(ONE_AT_A_TIME)

# The whole suite again on the Redis store (issue 9), against a redis-server started on a free
# loopback port (one per test process): in-process simulators, the live servers and the browser tests
# all keep their state there, and after each in-process test a joining worker must load exactly the
# state the test left.  .ci/run runs it after `make test`.
test-redis: install browser redis-server php node-example
	$(BIN)/python -m pytest --store=redis $(IN_PROCESS)
	$(BIN)/python -m pytest --store=redis $(ONE_AT_A_TIME)

# Everything, slow soaks and load tests included.
test-all: install browser redis-server php node-example
	$(BIN)/python -m pytest -m ''

lint: install
	$(BIN)/ruff check simulator tests tools examples bench
	$(BIN)/ruff format --check simulator tests tools examples bench
	$(BIN)/mypy simulator/domain simulator/store simulator/backends.py simulator/redis_backend.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis

# Benchmarks (bench/README.md), not part of `make test`: a table of figures against references
# measured in the same run, and bench/results.json.  SCENARIOS=read,cold runs some of them;
# BENCH_ARGS=--quick is a smoke run of a few seconds per scenario.
.PHONY: bench bench-tools
bench: install bench-tools
	$(BIN)/python -m bench $(if $(SCENARIOS),--only $(SCENARIOS)) $(BENCH_ARGS)

# wrk and redis-server from Debian (like `browser`; redis-server for the `redis` scenario); py-spy into
# .venv for the profiles; Prism and Mockoon from npm under bench/.npm, only when npm exists (else their
# rows say "not available").  Nothing global.
bench-tools: install
	@command -v wrk >/dev/null || { \
	  SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	  $$SUDO apt-get update && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wrk; }
	@command -v redis-server >/dev/null || test -x /usr/bin/redis-server || { \
	  SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	  $$SUDO apt-get update && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server; }
	@test -x $(BIN)/py-spy || $(BIN)/python -m pip install --quiet --disable-pip-version-check 'py-spy>=0.3,<1' \
	  || echo "bench-tools: py-spy did not install - the bench runs without profiles"
	@if ! command -v npm >/dev/null; then \
	  echo "bench-tools: npm not found - the Prism and Mockoon references will be 'not available'"; \
	elif ! test -x bench/.npm/node_modules/.bin/prism -a -x bench/.npm/node_modules/.bin/mockoon-cli; then \
	  npm install --prefix bench/.npm --no-audit --no-fund --loglevel=error \
	    '@stoplight/prism-cli@^5' '@mockoon/cli@^9' \
	  || echo "bench-tools: npm install failed - the Prism and Mockoon references will be 'not available'"; \
	fi
