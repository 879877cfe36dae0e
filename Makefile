# Everything installs itself: a fresh machine needs only Python 3.11+.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# dbt's manifest, which Dagster reads to build the dbt assets: made here, never when definitions load.
MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := dbt_project/dbt_project.yml $(shell find dbt_project/models dbt_project/macros -type f 2>/dev/null)

.PHONY: install manifest demo test bench ui clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

$(MANIFEST): $(STAMP) $(DBT_SOURCES)
	WAREHOUSE_PATH=$(CURDIR)/data/warehouse.duckdb $(BIN)/dbt parse --project-dir dbt_project --profiles-dir dbt_project --quiet
	touch $(MANIFEST)

manifest: $(MANIFEST)

demo: $(STAMP)
	$(BIN)/calendly-elt demo

# The end-to-end tests run on DuckDB and on PostgreSQL: a throwaway server on loopback for the run
# (tests/with_postgres.sh installs Debian's postgresql if it is missing).
test: $(STAMP) $(MANIFEST)
	# Two workers, one test file each at a time (module fixtures such as a built warehouse stay shared).
	# The 25 slowest at the end: the suite must stay under 15 minutes on 2 cores.
	tests/with_postgres.sh $(BIN)/python -m pytest -q -n 2 --dist loadfile --durations=25

bench: $(STAMP)
	$(BIN)/python bench/extract_bench.py

# Dagster's UI on http://127.0.0.1:3000, on the sandboxes unless CALENDLY_ACCESS_TOKEN is set.
ui: $(STAMP) $(MANIFEST)
	$(BIN)/python -m orchestration.dev

clean:
	rm -rf $(VENV) data/*.duckdb data/.dlt data/sandbox data/dagster data/demo data/reports dbt_project/target .pytest_cache
