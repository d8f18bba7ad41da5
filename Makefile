# aidebt: `make run` opens the dashboard on the sample scenario, `make test` runs every test.
# Both set up everything they need on a fresh machine (virtualenv, packages, Chromium, data).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SAMPLE := sample_data
PORT ?= 8501
export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := true
export STREAMLIT_BROWSER_GATHER_USAGE_STATS := false

.PHONY: run test bench sample lint install install-test chromium java wheel clean

$(VENV)/.installed: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

$(VENV)/.installed-bench: $(VENV)/.installed-test pyproject.toml
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(SAMPLE)/ground_truth.json: | $(VENV)/.installed
	$(VENV)/bin/aidebt sample --force $(SAMPLE)  # --force: next to the tracked README.md

sample: $(SAMPLE)/ground_truth.json

run: install sample
	$(VENV)/bin/aidebt serve --port $(PORT)

# Browser tests use Debian's Chromium (Playwright's own download needs the internet).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium chromium-driver; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium chromium-driver; fi; }

# Spark tests start a local Spark Connect server from the pip pyspark package: it needs a JRE.
java:
	@command -v java >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq default-jre-headless; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq default-jre-headless; fi; }

test: install-test chromium java sample
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -n 2 --dist loadfile -q

bench: $(VENV)/.installed-bench java sample
	@for script in tests/benchmarks/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

# The installable package (dashboard included, see CONTRIBUTING.md "Packaging") in dist/.
wheel: install
	$(PY) -m pip wheel --no-deps --quiet -w dist .

lint: install-test
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) build dist $(SAMPLE)/*.parquet $(SAMPLE)/*.json $(SAMPLE)/mlflow.db $(SAMPLE)/mlartifacts \
	  $(SAMPLE)/audits.sqlite $(SAMPLE)/.aidebt tests/e2e/screenshots
