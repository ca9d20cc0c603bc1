#!/usr/bin/env bash
# One venv per peer under ~/.cache/otel-agents/bench-peers/<name>, from PyPI only; reused when the
# stamp matches the requirements. Usage: bench/peers/setup.sh [name ...] (default: every peer).
set -euo pipefail
PY=${PY:-python3}
ROOT=${BENCH_PEERS_HOME:-$HOME/.cache/otel-agents/bench-peers}
# traceloop-sdk needs opentelemetry-instrumentation-logging, whose only release on the index is
# 0.59b0; that pins the contrib family and the OTel API to 1.38, so they are pinned here with
# traceloop-sdk itself, or pip backtracks through every release for many minutes.
declare -A REQS=(
  [traceloop]="traceloop-sdk==0.62.4 opentelemetry-instrumentation==0.59b0 opentelemetry-api==1.38.0 opentelemetry-sdk==1.38.0"
  [openinference]="openinference-instrumentation openinference-semantic-conventions opentelemetry-sdk"
  [langfuse]="langfuse>=3"
  [logfire]="logfire"
)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(traceloop openinference langfuse logfire)
for name in "${names[@]}"; do
  reqs=${REQS[$name]:?unknown peer $name}
  venv=$ROOT/$name
  if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.reqs" 2>/dev/null)" = "$reqs" ]; then
    continue
  fi
  echo "bench-peers: installing $reqs into $venv" >&2
  rm -rf "$venv"
  "$PY" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check $reqs
  echo "$reqs" > "$venv/.reqs"
done
