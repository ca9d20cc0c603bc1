# The two commands a fresh machine needs: `make demo` and `make test` (see README).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: docs demo test setup lint typecheck unit bench bench-core bench-core-ablation bench-web bench-store bench-ui bench-cli bench-reliability clean collector jaeger e2e-deps ui-deps e2e bench-collector

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[all,dev,genai-tests]'
	touch $(STAMP)

setup: $(STAMP)

# Regenerate the generated parts of docs/ (a test fails while they differ from the code).
docs: setup
	$(BIN)/python -m otel_agents.sdk._options_doc docs/configuration.md

demo: setup
	$(BIN)/otel-agents demo

lint: setup
	$(BIN)/ruff check otel_agents tests bench examples
	$(BIN)/ruff format --check otel_agents tests bench examples
	$(BIN)/lint-imports

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/python -m pytest -q

# e2e-deps before unit: pytest runs tests/e2e too, and a cold collector/Jaeger build
# (minutes) belongs outside the per-test timeout.
test: lint typecheck e2e-deps ui-deps unit

bench: bench-core bench-web bench-store

bench-store: setup
	$(BIN)/python bench/store_bench.py

# Whole `otel-agents` processes (start-up, doctor < 300 ms) on a 100k-span store.
bench-cli: setup
	$(BIN)/python -m bench.cli_bench

# The UI's pages over real HTTP on a 100k-span store (runs page target < 300 ms).
bench-ui: setup
	$(BIN)/python -m bench.ui_bench

bench-core: setup
	$(BIN)/python -m bench.core_bench

# Memory with 1 MB values and the collector down, drops with 64 KiB values, 1 MiB log cost (~2.5 min).
bench-reliability: setup
	$(BIN)/python -m bench.reliability_bench

bench-core-ablation: setup
	$(BIN)/python -m bench.core_ablation

# Web overhead: bare FastAPI vs contrib instrumentation vs setup_monitoring (about a minute).
bench-web: setup
	$(BIN)/python -m bench.web_bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# The collector distribution and Jaeger v2, built from Go modules into ~/.cache/otel-agents.
collector:
	bash collector/build.sh

jaeger:
	bash deploy/jaeger/build.sh

# Exit 3 = no Go: the e2e tests then skip, loudly; any other failure stops here.
e2e-deps:
	bash scripts/e2e-deps.sh || test $$? -eq 3

# Debian's chromium + chromium-driver for the UI's browser tests (exit 3 = cannot install here:
# the tests then skip loudly, and fail under CI=true).
ui-deps:
	bash scripts/ui-deps.sh || test $$? -eq 3

e2e: setup e2e-deps
	$(BIN)/python -m pytest -q tests/e2e

bench-collector: setup
	$(BIN)/python bench/collector_bench.py
