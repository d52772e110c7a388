# Developer and CI entry points of dbt_learn. `make setup` is idempotent: each step is a stamp file whose
# prerequisites are the step's inputs, so a second run reinstalls nothing. The work itself is in scripts/.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
# pip builds and Postgres set-up must not race each other.
.NOTPARALLEL:
MAKEFLAGS += --no-print-directory

PYTHON      ?= python3
PYTEST_ARGS ?= tests/ -q
PSQL_ARGS   ?=

LOCAL       := .dbt_learn_local
VENV        := .venv
SERVER_VENV := $(LOCAL)/server-venv
PGDATA      := $(LOCAL)/pgdata
STAMPS      := $(LOCAL)/stamps

# The in-database runtime: reinstall into the server venv (and re-run the install macro) when any of it changes.
RUNTIME_SRC := $(wildcard pyproject.toml) $(shell find python_models -type f \
                 ! -path '*/__pycache__/*' ! -name '*.pyc' ! -path '*.egg-info/*' 2>/dev/null | sort)

# dbt projects inside the repo that need packages; a project that does not exist yet is skipped.
DBT_PROJECTS := $(patsubst %/packages.yml,%,$(wildcard integration_tests/packages.yml demo/packages.yml \
                                                          benchmarks/dbt_bench/packages.yml \
                                                          benchmarks/dbt_monitoring/packages.yml))
DEPS_STAMPS  := $(addsuffix /dbt_packages/.dbt_learn_deps.stamp,$(DBT_PROJECTS))

# The install macro runs from integration_tests (demo until integration_tests exists), once the macro exists.
BOOTSTRAP_PROJECT := $(firstword $(filter integration_tests,$(DBT_PROJECTS)) $(DBT_PROJECTS))
INSTALL_MACROS    := $(wildcard macros/install/*.sql macros/registry/*.sql)
ifneq ($(and $(wildcard macros/install/install.sql),$(BOOTSTRAP_PROJECT)),)
BOOTSTRAP_STAMP := $(STAMPS)/bootstrap
endif

.PHONY: help setup system cluster deps bootstrap demo monitor-plot report test lint bench bench-core bench-preprocessing psql stop clean

help: ## show this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  make %-7s %s\n", $$1, $$2}'

setup: system $(VENV)/.dbt_learn.stamp $(SERVER_VENV)/.dbt_learn-runtime.stamp cluster deps bootstrap ## install everything and start the private Postgres cluster
	@echo "dbt_learn setup: ready. Cluster on 127.0.0.1:$$(cat $(LOCAL)/port); env: source $(LOCAL)/env"

system:
	@bash scripts/system-packages.sh

$(VENV)/.dbt_learn.stamp: requirements/client.txt requirements/server.txt $(wildcard pyproject.toml) | system
	@PYTHON=$(PYTHON) bash scripts/venvs.sh client

$(SERVER_VENV)/.dbt_learn-deps.stamp: requirements/server.txt | system
	@bash scripts/venvs.sh server-deps

$(SERVER_VENV)/.dbt_learn-runtime.stamp: $(SERVER_VENV)/.dbt_learn-deps.stamp $(RUNTIME_SRC)
	@bash scripts/venvs.sh server-runtime

# initdb once; PG_VERSION's age then tells the bootstrap stamp that the database is new.
$(PGDATA)/PG_VERSION: | system
	@bash scripts/cluster.sh init

cluster: $(PGDATA)/PG_VERSION $(SERVER_VENV)/.dbt_learn-runtime.stamp
	@bash scripts/cluster.sh start

deps: $(DEPS_STAMPS)

%/dbt_packages/.dbt_learn_deps.stamp: %/packages.yml | $(VENV)/.dbt_learn.stamp cluster
	@bash scripts/dbt-deps.sh $*

bootstrap: $(BOOTSTRAP_STAMP)
ifeq ($(BOOTSTRAP_STAMP),)
	@echo "dbt_learn setup: macros/install/install.sql or a dbt project is missing: skipping the in-database install"
endif

# dbt_packages only has to be there (order-only): reinstalling the packages does not change what the macro does.
$(STAMPS)/bootstrap: $(INSTALL_MACROS) $(SERVER_VENV)/.dbt_learn-runtime.stamp $(RUNTIME_SRC) $(PGDATA)/PG_VERSION \
                     | cluster $(BOOTSTRAP_PROJECT)/dbt_packages/.dbt_learn_deps.stamp
	@bash scripts/bootstrap.sh $(BOOTSTRAP_PROJECT)
	@mkdir -p $(STAMPS) && touch $@

demo: setup ## set up, then build the demo project (scripts/demo.sh)
	@if [ -f scripts/demo.sh ]; then bash scripts/with-env.sh bash scripts/demo.sh; \
	 else echo "dbt_learn demo: scripts/demo.sh does not exist yet"; fi

monitor-plot: ## plot the demo's trailing performance and drift per window (after make demo) to demo/monitoring.png
	@bash scripts/with-env.sh $(VENV)/bin/python scripts/monitoring_plot.py --model breast_cancer --min-value 0.85 \
	  --out demo/monitoring.png

report: ## write the model report (HTML + PNG per model and version, after make demo) to demo/target/dbt_learn_report
	@bash scripts/with-env.sh $(VENV)/bin/python -m dbt_learn.report --manifest demo/target/manifest.json \
	  --out demo/target/dbt_learn_report $(REPORT_ARGS)

test: setup ## set up, then run pytest (PYTEST_ARGS='tests/unit -x' to narrow)
	@bash scripts/run-tests.sh $(PYTEST_ARGS)

# sqlfluff's dbt templater compiles the models against the cluster, so lint sets up first; the package's own models
# compile as the root project, whose dbt_packages/ only lint needs.
lint: setup dbt_packages/.dbt_learn_deps.stamp ## ruff, shellcheck, sqlfluff over models and macros (sets up first; CI runs it before the tests)
	@$(VENV)/bin/ruff check python_models tests benchmarks scripts lint
	@shellcheck -x --source-path=SCRIPTDIR scripts/*.sh .ci/run
	@bash scripts/lint-sql.sh
	@echo "dbt_learn lint: clean"

dbt_packages/.dbt_learn_deps.stamp: packages.yml | $(VENV)/.dbt_learn.stamp cluster
	@bash scripts/dbt-deps.sh .

bench: setup ## set up, then benchmark dbt_learn against pandas, psycopg COPY and the floor (BENCH_ARGS='--quick')
	@bash scripts/with-env.sh $(VENV)/bin/python -m benchmarks $(BENCH_ARGS)
	@bash scripts/with-env.sh $(VENV)/bin/python -m benchmarks.preprocessing $(filter --quick,$(BENCH_ARGS))
	@bash scripts/with-env.sh $(VENV)/bin/python -m benchmarks.streaming $(filter --quick,$(BENCH_ARGS))
	@bash scripts/with-env.sh $(VENV)/bin/python -m benchmarks.partial_fit $(filter --quick,$(BENCH_ARGS))
	@bash scripts/with-env.sh $(VENV)/bin/python -m benchmarks load $(filter --quick,$(BENCH_ARGS))

bench-core: setup ## set up, then measure the 1M x 10 targets of issue 11 side by side, < 10 min (BENCH_ARGS='--quick')
	@bash scripts/with-env.sh $(VENV)/bin/python -m benchmarks.core $(BENCH_ARGS)

bench-preprocessing: setup ## set up, then time the default preprocessing (BENCH_ARGS='--quick' for 20k rows)
	@bash scripts/with-env.sh $(VENV)/bin/python -m benchmarks.preprocessing $(BENCH_ARGS)

psql: ## psql on the private cluster as the dbt role (pipe SQL in, or PSQL_ARGS='-c ...')
	@bash scripts/psql.sh $(PSQL_ARGS)

stop: ## stop the private cluster (and make demo's pgbouncer)
	@bash scripts/pgbouncer.sh stop
	@bash scripts/cluster.sh stop

clean: stop ## stop the cluster, then delete the venvs, the cluster, dbt packages and dbt output
	rm -rf $(LOCAL) $(VENV) */dbt_packages */target */logs dbt_packages target logs benchmarks/dbt_bench/{dbt_packages,target,logs} benchmarks/dbt_monitoring/{dbt_packages,target,logs}
	@echo "dbt_learn clean: done"
