# The project's commands. `make run` and `make test` do all the set-up they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NPM := $(shell command -v npm 2>/dev/null)
# Front-end assets come from the npm registry; without npm the tests that need them skip.
NODE_STAMP := $(if $(NPM),node_modules/.installed,)

.PHONY: install run test lint simulate clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(STAMP) $(NODE_STAMP)  ## create .venv (and node_modules) and install the project with its test tools

run: $(STAMP)  ## run one whole audit on a virtual clock (the web app is not built yet)
	$(BIN)/bpmn-audit simulate --agencies 6 --cases 4

simulate: run

test: $(STAMP) $(NODE_STAMP)  ## run every test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)  ## ruff
	$(BIN)/ruff check src tests

clean:
	rm -rf $(VENV) node_modules instance .pytest_cache
