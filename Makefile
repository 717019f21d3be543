# make run   - set up this machine and run everything in the foreground (Ctrl-C stops it)
# make up    - the same in the background (var/run.log, var/run.pid); make down stops it
#              REPLICAS=2 runs two copies of each service and of the gateway; per process:
#              REPLICAS=1,documents=3,cases=2 (docs/operations.md, "Several copies")
# make test  - set up (with Chromium) and run the whole test suite against real servers
# make bench - run every bench/*.py script in turn (not _*.py: helpers)
# make lint  - ruff check, and the import rules between the parts (lint-imports)
#
# Every ZC_* setting (shared/settings.py) can be given in the environment or on the command
# line, e.g. `make run ZC_GATEWAY_PORT=9000`. Tests and benchmarks use their own database,
# broker prefix and port, so they can run while `make up` is running.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run

VENV ?= .venv
PY := $(VENV)/bin/python
# Same default as shared/settings.py; only used here to derive the test and bench databases.
ZC_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/zhicheng
PG_SERVER = $(patsubst %/,%,$(dir $(ZC_DATABASE_URL)))

TEST_DATABASE_URL ?= $(PG_SERVER)/zhicheng_test
TEST_GATEWAY_PORT ?= 18080
# Two workers, each a test file at a time with its own database, broker prefix and var folder
# (tests/conftest.py); TEST_WORKERS=0 runs in one process. The slowest tests are listed.
TEST_WORKERS ?= 2
PYTEST_ARGS ?= $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile) --durations=25
TEST_ENV = ZC_DATABASE_URL=$(TEST_DATABASE_URL) ZC_BROKER_PREFIX=zctest \
	ZC_GATEWAY_PORT=$(TEST_GATEWAY_PORT) ZC_VAR_DIR=var/test

BENCH_DATABASE_URL ?= $(PG_SERVER)/zhicheng_bench
BENCH_GATEWAY_PORT ?= 18081
BENCH_ENV = ZC_DATABASE_URL=$(BENCH_DATABASE_URL) ZC_BROKER_PREFIX=zcbench \
	ZC_GATEWAY_PORT=$(BENCH_GATEWAY_PORT) ZC_VAR_DIR=var/bench

UP_TIMEOUT ?= 90
REPLICAS ?= 1
PID_FILE := var/run.pid
LOG_FILE := var/run.log

.PHONY: run up down test bench lint bootstrap

bootstrap:
	bash scripts/bootstrap.sh

run: bootstrap
	$(PY) -m tools.runall --replicas $(REPLICAS)

up: bootstrap
	@mkdir -p var
	@if [ -f $(PID_FILE) ] && grep -qs tools.runall /proc/$$(cat $(PID_FILE))/cmdline; then \
	  echo "already running (pid $$(cat $(PID_FILE)), log $(LOG_FILE)); make down stops it"; \
	else \
	  nohup $(PY) -m tools.runall --replicas $(REPLICAS) > $(LOG_FILE) 2>&1 < /dev/null & \
	  echo $$! > $(PID_FILE); \
	  echo "started runall (pid $$(cat $(PID_FILE))), log in $(LOG_FILE)"; \
	fi
	@if ! $(PY) -m tools.runall --wait-ready $(UP_TIMEOUT) --pid $$(cat $(PID_FILE)); then \
	  echo "--- last lines of $(LOG_FILE):"; tail -n 40 $(LOG_FILE); exit 1; \
	fi

down:
	@if [ ! -f $(PID_FILE) ]; then echo "not running (no $(PID_FILE))"; exit 0; fi; \
	pid=$$(cat $(PID_FILE)); \
	if grep -qs tools.runall /proc/$$pid/cmdline; then \
	  echo "stopping runall (pid $$pid)"; kill -TERM $$pid; \
	  for _ in $$(seq 120); do grep -qs tools.runall /proc/$$pid/cmdline || break; sleep 0.5; done; \
	  if grep -qs tools.runall /proc/$$pid/cmdline; then \
	    echo "runall did not stop in 60s: killing it"; kill -KILL $$pid; \
	  fi; \
	else \
	  echo "runall (pid $$pid) was not running"; \
	fi; \
	rm -f $(PID_FILE)

test:
	$(TEST_ENV) bash scripts/bootstrap.sh --with-browser
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS)

bench:
	$(BENCH_ENV) bash scripts/bootstrap.sh
	@shopt -s nullglob; scripts=(bench/*.py); ran=0; \
	for f in "$${scripts[@]}"; do \
	  case $$(basename $$f) in _*) continue ;; esac; \
	  m=$${f%.py}; m=$${m//\//.}; \
	  echo "=== $$f"; $(BENCH_ENV) $(PY) -m $$m; ran=$$((ran + 1)); \
	done; \
	echo "=== $$ran bench script(s) ran"

lint:
	bash scripts/bootstrap.sh --venv-only
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports --no-cache
