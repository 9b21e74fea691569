# Every target installs what it needs first, so each works on a fresh clone with Python and make.
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.DEFAULT_GOAL := help

.PHONY: help install run test lint format bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

install: $(VENV)/.installed ## Install the service and its tools from uv.lock into .venv

run: install ## Migrate, load the demo district on first start, serve on http://127.0.0.1:8000
	$(BIN)/inventory db upgrade
	$(BIN)/inventory demo load --if-empty
	$(BIN)/inventory serve

# The browser tests need Debian's Chromium at /usr/bin/chromium: `make test` installs it when
# it is missing and make runs as root on a machine with apt-get, and says how otherwise (the
# tests then skip, except under CI).
test: install ## Run the whole suite (PostgreSQL too when INVENTORY_TEST_POSTGRES_URL is set)
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "Installing Chromium for the browser tests"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
				|| echo "Installing Chromium failed; the browser tests will be skipped"; \
		else \
			echo "The browser tests need /usr/bin/chromium and will be skipped;" \
				"install it with: sudo apt-get install chromium"; \
		fi; \
	fi
	$(BIN)/pytest

lint: install ## Check style with ruff and types with mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install ## Rewrite the code in ruff's format
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install ## Run the benchmarks (PostgreSQL too when INVENTORY_BENCH_POSTGRES_URL is set)
	$(BIN)/python -m bench $(if $(INVENTORY_BENCH_POSTGRES_URL),--postgres $(INVENTORY_BENCH_POSTGRES_URL))
	$(BIN)/python -m bench.labels
	$(BIN)/python -m bench.imports $(if $(INVENTORY_BENCH_POSTGRES_URL),--postgres $(INVENTORY_BENCH_POSTGRES_URL))
	$(BIN)/python -m bench.escalations
	$(BIN)/python -m bench.recycling $(if $(INVENTORY_BENCH_POSTGRES_URL),--postgres $(INVENTORY_BENCH_POSTGRES_URL))
	$(BIN)/python -m bench.reports $(if $(INVENTORY_BENCH_POSTGRES_URL),--postgres $(INVENTORY_BENCH_POSTGRES_URL))
	$(BIN)/python -m bench.plans
	$(BIN)/python -m bench.load $(if $(INVENTORY_BENCH_POSTGRES_URL),--postgres $(INVENTORY_BENCH_POSTGRES_URL))
	$(BIN)/python -m bench.scan_http $(if $(INVENTORY_BENCH_POSTGRES_URL),--postgres $(INVENTORY_BENCH_POSTGRES_URL))

clean: ## Remove the virtual environments, caches and the local database under var/
	rm -rf $(VENV) $(TOOLS) var .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
