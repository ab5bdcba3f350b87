# Taizhang — developer and CI entry points. `make` (or `make help`) lists the targets.

SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
# Only a command-line value overrides these (`make run PORT=5001`), not a stray HOST/PORT in the environment.
HOST := 127.0.0.1
PORT := 5000
PYTEST_ARGS ?=
# pytest-xdist workers: one per core ("auto"); PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= auto

export PIP_DISABLE_PIP_VERSION_CHECK := 1

# Stamps live inside the venv: recreating it re-installs; editing pyproject.toml re-installs.
INSTALL_STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: help run test lint worker install deps migrate bench bench-sales bench-finance

help: ## list the targets
	@echo "Taizhang — make targets:"
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-zA-Z_-]*:.*## / {printf "  make %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "Variables: HOST=$(HOST) PORT=$(PORT) PYTEST_ARGS='$(PYTEST_ARGS)' PYTEST_WORKERS=$(PYTEST_WORKERS) VENV=$(VENV)"

run: $(INSTALL_STAMP) ## set up and start the app with a demo workspace on http://127.0.0.1:5000
	@bash scripts/system-deps.sh --runtime
	@HOST='$(HOST)' PORT='$(PORT)' VENV='$(VENV)' bash scripts/run.sh

test: $(TEST_STAMP) ## run the whole test suite (PostgreSQL + Redis when TEST_DATABASE_URL etc. are set)
	@bash scripts/system-deps.sh
	@mkdir -p test-artifacts
	@rc=0; $(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests (exit 5); that is a failure" >&2; fi; \
	exit $$rc

lint: $(TEST_STAMP) ## ruff check, ruff format --check, import-linter contracts
	@rc=0; \
	echo "--> ruff check"; $(VENV)/bin/ruff check . || rc=1; \
	echo "--> ruff format --check"; $(VENV)/bin/ruff format --check . || rc=1; \
	echo "--> lint-imports"; $(VENV)/bin/lint-imports || rc=1; \
	exit $$rc

worker: $(INSTALL_STAMP) ## run an RQ worker (needs REDIS_URL)
	$(FLASK) worker

install: $(INSTALL_STAMP) ## create .venv and install the project (skipped when up to date)

deps: ## install the Debian packages (fonts, Pango, poppler, chromium); root or prints the sudo command
	@bash scripts/system-deps.sh

migrate: $(INSTALL_STAMP) ## apply database migrations (DATABASE_URL / MIGRATION_DATABASE_URL, else SQLite under instance/)
	$(FLASK) db upgrade

bench: $(INSTALL_STAMP) ## run both benchmarks on PostgreSQL (RLS overhead, then the sales pages)
	@if [ -f bench/rls_overhead.py ]; then $(PY) bench/rls_overhead.py; \
	else echo "bench/rls_overhead.py does not exist yet; nothing to run"; fi
	$(MAKE) --no-print-directory bench-sales

bench-sales: $(INSTALL_STAMP) ## run bench/sales.py (sales pages vs their bare SQL; BENCH_ARGS='--scale 0.1')
	$(PY) bench/sales.py $(BENCH_ARGS)

bench-finance: $(INSTALL_STAMP) ## run bench/finance.py (report exports vs their baselines; BENCH_ARGS='--scale 0.05')
	$(PY) bench/finance.py $(BENCH_ARGS)

# Create the virtualenv with Python 3.11 (python3.11, else python3 when it is 3.11).
$(PY):
	@py=$$(command -v python3.11 || true); \
	if [ -z "$$py" ] && python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then py=$$(command -v python3); fi; \
	if [ -z "$$py" ]; then echo "Taizhang needs Python 3.11 (python3.11 or python3 at 3.11); none found" >&2; exit 1; fi; \
	echo "creating $(VENV) with $$py"; \
	"$$py" -m venv --clear $(VENV) || { echo "venv creation failed; on Debian: apt-get install python3.11-venv" >&2; exit 1; }

$(INSTALL_STAMP): pyproject.toml | $(PY)
	@if [ -f $(TEST_STAMP) ] && [ $(TEST_STAMP) -nt pyproject.toml ]; then touch $@; exit 0; fi; \
	$(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { echo "$(VENV) is not Python 3.11; remove it and retry" >&2; exit 1; }; \
	echo "installing the project into $(VENV)"; \
	$(PY) -m pip install --quiet -e . && touch $@

$(TEST_STAMP): pyproject.toml | $(PY)
	@$(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { echo "$(VENV) is not Python 3.11; remove it and retry" >&2; exit 1; }; \
	echo "installing the project with test extras into $(VENV)"; \
	$(PY) -m pip install --quiet -e '.[test]' && touch $@ $(INSTALL_STAMP)
