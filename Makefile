# The project's commands. `make run` and `make test` do all the set-up they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NPM := $(shell command -v npm 2>/dev/null)
# Front-end assets come from the npm registry; without npm the tests that need them skip.
NODE_STAMP := $(if $(NPM),node_modules/.installed,)
# The pages' stylesheet, compiled from assets/ with npm's sass (GOV.UK Frontend's Sass, a system font), and
# the audit page's diagram: npm's bpmn-js viewer with its stylesheets, and assets/audit-diagram.js; and the
# modeller: assets/modeller.js (bpmn-js's Modeler, the Camunda 7 properties panel, dmn-js) bundled by esbuild.
STATIC := $(if $(NPM),src/bpmn_audit/static/app.css src/bpmn_audit/static/diagram/.copied \
	src/bpmn_audit/static/modeller/.built,)

.PHONY: install run test lint simulate demo bench clean screenshots
# The demo's database and case key live in instance/ (ignored by git); the key is made once and kept,
# so the demo's cases stay readable across runs of the app.
DEMO_ENV = BPMN_AUDIT_DATABASE_URL=sqlite:///$(CURDIR)/instance/demo.sqlite3 \
	BPMN_AUDIT_CASE_KEY=$$(cat instance/demo-case.key)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

src/bpmn_audit/static/app.css: assets/app.scss node_modules/.installed
	mkdir -p src/bpmn_audit/static
	node_modules/.bin/sass --pkg-importer=node --no-source-map --style=compressed --quiet-deps assets/app.scss $@

src/bpmn_audit/static/diagram/.copied: assets/audit-diagram.js node_modules/.installed
	mkdir -p src/bpmn_audit/static/diagram
	cp node_modules/bpmn-js/dist/bpmn-navigated-viewer.production.min.js node_modules/bpmn-js/dist/assets/diagram-js.css \
		node_modules/bpmn-js/dist/assets/bpmn-js.css assets/audit-diagram.js src/bpmn_audit/static/diagram/
	touch $@

src/bpmn_audit/static/modeller/.built: assets/modeller.js node_modules/.installed
	mkdir -p src/bpmn_audit/static/modeller
	node_modules/.bin/esbuild assets/modeller.js --bundle --minify --format=iife --log-level=error \
		--outfile=src/bpmn_audit/static/modeller/modeller.js
	cp -r node_modules/bpmn-js/dist/assets/diagram-js.css node_modules/bpmn-js/dist/assets/bpmn-js.css \
		node_modules/bpmn-js/dist/assets/bpmn-font \
		node_modules/@bpmn-io/properties-panel/dist/assets/properties-panel.css \
		node_modules/dmn-js/dist/assets/dmn-js-shared.css node_modules/dmn-js/dist/assets/dmn-js-decision-table.css \
		node_modules/dmn-js/dist/assets/dmn-js-decision-table-controls.css node_modules/dmn-js/dist/assets/dmn-js-drd.css \
		node_modules/dmn-js/dist/assets/dmn-font src/bpmn_audit/static/modeller/
	touch $@

install: $(STAMP) $(NODE_STAMP) $(STATIC)  ## create .venv (and node_modules) and install the project with its test tools

run: demo  ## the app on http://127.0.0.1:5000 with the demo partnership (made afresh) and the timer sweep
	$(DEMO_ENV) $(BIN)/bpmn-audit serve

simulate: $(STAMP)  ## run one whole audit on a virtual clock and print its timeline
	$(BIN)/bpmn-audit simulate --agencies 6 --cases 5

demo: $(STAMP) $(STATIC)  ## a demo partnership (people in every role, two audits with work) in instance/demo.sqlite3, made afresh
	mkdir -p instance
	test -s instance/demo-case.key || (umask 077 && $(BIN)/python -c \
		"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())" > instance/demo-case.key)
	rm -f instance/demo.sqlite3
	$(DEMO_ENV) $(BIN)/bpmn-audit init-db
	$(DEMO_ENV) $(BIN)/bpmn-audit demo

test: $(STAMP) $(NODE_STAMP) $(STATIC)  ## run every test, on as many processes as there are cores
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

bench: $(STAMP)  ## print the benchmarks' ratios, each measured in one run: the budgets' cost, the inbox at scale, an API completion against the engine floor
	$(BIN)/python bench/bench_budgets.py
	$(BIN)/python bench/bench_inbox.py
	$(BIN)/python bench/bench_complete.py

screenshots: $(STAMP) $(NODE_STAMP) $(STATIC)  ## retake the process owner's guide's pictures (docs/images) from the browser tests
	BPMN_AUDIT_SCREENSHOTS=docs $(BIN)/python -m pytest tests/test_modeller.py -q

lint: $(STAMP)  ## ruff
	$(BIN)/ruff check src tests bench

clean:
	rm -rf $(VENV) node_modules instance .pytest_cache src/bpmn_audit/static
