# twofa — the commands a person meets: make run, make test, make bench.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast coverage bytecode bench lint typecheck clean install browser-deps deploy-deps node-deps

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Start the demo: provider + authenticator + site, with data under ./var
run: $(STAMP)
	$(BIN)/twofa serve

## Chromium from Debian for the browser tests (Playwright drives it; no browser download)
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "install Debian's chromium (sudo apt-get install -y chromium) for browser tests"; fi; }

## nginx from Debian for the deployment test (deploy/local.py runs its own instance)
deploy-deps:
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq nginx >/dev/null; \
	  else echo "install Debian's nginx (sudo apt-get install -y nginx) for the deployment test"; fi; }

## The npm twilio package for the Node Verify smoke test (from the npm registry; git ignores it)
node-deps:
	@if command -v npm >/dev/null 2>&1; then \
	  test -f tests/compat/node/node_modules/twilio/package.json || \
	  npm ci --prefix tests/compat/node --no-audit --no-fund --silent; \
	else echo "node/npm not found: the Node Verify smoke test will be skipped"; fi

## twofa's own modules compiled ahead: the suite starts a few hundred processes (providers,
## sites, CLI runs), and where PYTHONDONTWRITEBYTECODE is set each would compile them again
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q src >/dev/null

## The tests that need no server process, database service, Redis or browser (seconds;
## without the plugins only the whole suite uses: xdist, coverage, schemathesis)
test-fast: $(STAMP) bytecode
	PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 $(BIN)/pytest -p timeout -q -p no:cacheprovider \
	  -m "not postgres and not redis and not browser and not deployment" tests/fast tests/provider

## The whole suite: every tier, against SQLite and PostgreSQL (what CI runs)
test: $(STAMP) bytecode browser-deps deploy-deps node-deps
	$(BIN)/pytest -n 2 --dist loadgroup -q --durations=25

## The whole suite with branch coverage of every process it starts (slower:
## each provider, site and CLI process is traced from its first import)
coverage: $(STAMP) bytecode browser-deps deploy-deps node-deps
	$(BIN)/pytest -n 2 --dist loadgroup -q --cov --cov-report=term --durations=25

bench: $(STAMP)
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check src tests bench deploy examples
	$(BIN)/ruff format --check src tests bench deploy examples

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var tests/compat/node/node_modules .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.* htmlcov
