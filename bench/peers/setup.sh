#!/usr/bin/env bash
# One venv per peer under ~/.cache/otel-agents/bench-peers/<name>, from PyPI only; reused when the
# stamp matches the requirements. Usage: bench/peers/setup.sh [name ...] (default: every peer).
set -euo pipefail
PY=${PY:-python3}
ROOT=${BENCH_PEERS_HOME:-$HOME/.cache/otel-agents/bench-peers}
# traceloop-sdk pulls in every OpenLLMetry instrumentation and six contrib ones, each pinning
# opentelemetry-instrumentation to its own release; the index holds no release of all six at one
# version, so pip backtracks for many minutes and then fails. It is installed without its
# dependencies (NODEPS), then with its own runtime ones on one consistent OTel release. The
# library instrumentations are left out: the workflow calls no instrumented library.
declare -A NODEPS=(
  [traceloop]="traceloop-sdk==0.62.4"
)
declare -A REQS=(
  [traceloop]="aiohttp<4,>=3.11.11 colorama<0.5,>=0.4.6 cuid<0.5,>=0.4 deprecated<2,>=1.2.14 jinja2<4,>=3.1.5 pydantic>=1 tenacity<10,>=8.2.3 httpx opentelemetry-semantic-conventions-ai<0.6,>=0.5.1 opentelemetry-api==1.45.1 opentelemetry-sdk==1.45.1 opentelemetry-semantic-conventions==0.66b1 opentelemetry-exporter-otlp-proto-grpc==1.45.1 opentelemetry-exporter-otlp-proto-http==1.45.1 opentelemetry-instrumentation==0.66b1 opentelemetry-instrumentation-logging==0.66b1 opentelemetry-instrumentation-threading==0.66b1"
  [openinference]="openinference-instrumentation openinference-semantic-conventions opentelemetry-sdk"
  [langfuse]="langfuse>=3"
  [logfire]="logfire"
)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(traceloop openinference langfuse logfire)
for name in "${names[@]}"; do
  reqs=${REQS[$name]:?unknown peer $name}
  nodeps=${NODEPS[$name]:-}
  venv=$ROOT/$name
  if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.reqs" 2>/dev/null)" = "$nodeps $reqs" ]; then
    continue
  fi
  echo "bench-peers: installing $nodeps $reqs into $venv" >&2
  rm -rf "$venv"
  "$PY" -m venv "$venv"
  pip=("$venv/bin/python" -m pip install -q --disable-pip-version-check)
  if [ -n "$nodeps" ]; then
    "${pip[@]}" --no-deps $nodeps
  fi
  # Quoted one by one: the specifiers hold '<' and '>'.
  read -r -a specs <<< "$reqs"
  "${pip[@]}" "${specs[@]}"
  echo "$nodeps $reqs" > "$venv/.reqs"
done
