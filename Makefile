# The project's commands. `make run` and `make test` do all the set-up they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NPM := $(shell command -v npm 2>/dev/null)
# Front-end assets come from the npm registry; without npm the tests that need them skip.
NODE_STAMP := $(if $(NPM),node_modules/.installed,)

.PHONY: install run test lint simulate bench clean

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
	$(BIN)/bpmn-audit simulate --agencies 6 --cases 5

simulate: run

test: $(STAMP) $(NODE_STAMP)  ## run every test, on as many processes as there are cores
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

bench: $(STAMP)  ## print the benchmarks' ratios, each measured in one run: the budgets' cost, the inbox at scale
	$(BIN)/python bench/bench_budgets.py
	$(BIN)/python bench/bench_inbox.py

lint: $(STAMP)  ## ruff
	$(BIN)/ruff check src tests bench

clean:
	rm -rf $(VENV) node_modules instance .pytest_cache
