# Everyday commands. From a fresh clone: `make run` serves the demo page, `make test` runs
# every test. Both install into .venv first (again whenever pyproject.toml changes).

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app statuspage

# The Node clients the tests run against the service, when their folder and npm exist.
JS_LOCK := $(wildcard tests/js/package-lock.json)
NPM := $(shell command -v npm 2>/dev/null)
JS_DEPS := $(if $(and $(JS_LOCK),$(NPM)),tests/js/node_modules/.installed)
# The published Statuspage Manage API client pins its own dependencies (older than the app's),
# so it gets an environment of its own.
PY_CLIENTS := tests/pyclients/.venv/.installed

# The translation catalogs: the .po files are the source (committed), the .mo files are built.
LOCALES := statuspage/translations
PO_FILES := $(wildcard $(LOCALES)/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)
PYBABEL_KEYWORDS := -k N_ -k _l -k lazy_gettext

# Test processes (pytest-xdist): one per core by default; TEST_WORKERS=0 runs in this process.
TEST_WORKERS ?= auto
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS) --durations=15

.PHONY: $(VENV) run test test-fast nightly lint bench catalogs

$(VENV): $(VENV)/.installed

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# Compiled at build time so every page and email finds its language; `run`, `test` and
# `bench` depend on them.
$(MO_FILES): %.mo: %.po | $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d $(LOCALES) -l $(word 3,$(subst /, ,$<)) -i $< -o $@

# After changing any marked text: extract every `_()`/`gettext` of the code and templates
# and merge it into each language's catalog (then translate the new entries, `make test`).
catalogs: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg $(PYBABEL_KEYWORDS) --no-location --sort-output \
		--project statuspage -o $(LOCALES)/messages.pot .
	$(BIN)/pybabel update -i $(LOCALES)/messages.pot -d $(LOCALES) --no-fuzzy-matching \
		--ignore-obsolete

$(PY_CLIENTS): tests/pyclients/requirements.txt
	$(PYTHON) -m venv tests/pyclients/.venv
	tests/pyclients/.venv/bin/python -m pip install --quiet -r $<
	touch $@

tests/js/node_modules/.installed: tests/js/package-lock.json
	npm ci --prefix tests/js --no-audit --no-fund
	touch $@

# Creates or migrates the database, seeds the demo into a new one (an existing one is kept),
# and serves on 127.0.0.1 with the scheduler inside the serving process (the embedded
# default). The demo's staff passwords are printed the first time only.
run: $(VENV)/.installed $(MO_FILES)
	$(FLASK) init
	$(FLASK) seed --demo --if-empty
	$(FLASK) serve --host 127.0.0.1 --port $${PORT:-5000}

# Every test, Schemathesis against the served API document among them
# (tests/api/test_schemathesis.py); the property tests run the derandomised "ci" Hypothesis
# profile, so a run passes or fails the same way every time.
# Both databases, the browsers and the clients, in one process per core; the 15 slowest
# tests are listed last.
test: $(VENV)/.installed $(MO_FILES) $(JS_DEPS) $(PY_CLIENTS)
	$(PYTEST)

# The quick loop while working: SQLite only, no browser, nothing marked slow.
test-fast: $(VENV)/.installed $(MO_FILES)
	$(PYTEST) -m "not browser and not postgres and not slow"

# The property tests exploring: 1,000 new random examples each (a few minutes; for a nightly
# job, not `make test`). A failure prints the blob that replays it; keep it as an @example.
nightly: $(VENV)/.installed $(MO_FILES)
	HYPOTHESIS_PROFILE=nightly $(BIN)/python -m pytest -p no:cacheprovider \
		tests/security/test_text_properties.py tests/subscriptions/test_import_delivery_properties.py

# Style, the layers' import contracts, and the type checker (strict on statuspage, calendars
# and jobs; pyproject.toml's [tool.mypy]).
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# The benchmark table against its targets (a few minutes; not part of `make test`). Load runs
# need Debian's `wrk`; without it they are skipped with a message.
bench: $(VENV)/.installed $(MO_FILES)
	$(BIN)/python -m benchmarks
