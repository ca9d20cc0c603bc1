# The two commands a fresh machine needs: `make demo` and `make test` (see README).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: docs demo test setup lint typecheck unit bench bench-core bench-core-ablation bench-web bench-store bench-peers bench-ui bench-cli bench-reliability bench-all clean collector jaeger e2e-deps ui-deps e2e bench-collector

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

# Every bench writes bench/results/<name>.json; the tables in docs/performance.md are rebuilt from them.
bench: bench-core bench-web bench-store bench-peers
	$(BIN)/python -m bench.perf_table

bench-store: setup
	$(BIN)/python -m bench.store_bench --json bench/results/store.json

# `make bench` plus the chain's throughput with 64 KiB values, the CLI on 1M spans and OTLP export
# against the stock SDK (about 7 more minutes; the first run also builds the 1M-span store, ~3 min).
bench-all: bench bench-reliability bench-cli bench-collector
	$(BIN)/python -m bench.perf_table

# Whole `otel-agents` processes (`runs` < 80 ms to first output, doctor < 300 ms) on a 1M-span store,
# built once per schema version under ~/.cache/otel-agents/bench-stores.
bench-cli: setup
	$(BIN)/python -m bench.cli_bench --json bench/results/cli.json

# The UI's pages over real HTTP on a 100k-span store (runs page target < 300 ms).
bench-ui: setup
	$(BIN)/python -m bench.ui_bench

bench-core: setup
	$(BIN)/python -m bench.core_bench --json bench/results/core.json

# Memory with 1 MB values and the collector down, drops with 64 KiB values, 1 MiB log cost, the chain's
# throughput with fresh 64 KiB values (~2.5 min).
bench-reliability: setup
	$(BIN)/python -m bench.reliability_bench --json bench/results/reliability.json

bench-core-ablation: setup
	$(BIN)/python -m bench.core_ablation

# Web overhead: bare FastAPI/Flask vs contrib instrumentation vs setup_monitoring (a few minutes).
# wrk from Debian is the load generator; without it (no apt-get, no root) the Python one runs.
bench-web: setup
	command -v wrk >/dev/null || (apt-get install -y -q wrk >/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q wrk >/dev/null 2>&1)) || echo "bench-web: wrk not installed; the Python load generator runs"
	$(BIN)/python -m bench.web_bench --json bench/results/web.json

# The same agent workflow through otel-agents, OpenLLMetry, OpenInference, Langfuse and Logfire,
# each against the plain SDK (each peer in its own venv under ~/.cache/otel-agents/bench-peers).
bench-peers: setup
	bash bench/peers/setup.sh
	$(BIN)/python -m bench.peers_bench --json bench/results/peers.json

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
	$(BIN)/python bench/collector_bench.py --json bench/results/collector.json
