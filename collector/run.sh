#!/usr/bin/env bash
# Start otelcol-agents with the bundled config plus the fragments the environment asks for.
#
#   collector/run.sh             run the collector (exec, so signals reach it directly)
#   collector/run.sh validate    only check the assembled config
#   collector/run.sh print-args  print the --config arguments it would use
#
# Optional outputs are separate fragments merged over config.yaml, because a collector
# config cannot disable an exporter conditionally: an exporter with an empty endpoint
# would fail validation, and one pointing nowhere would retry forever.
#   OTEL_AGENTS_JAEGER_ENDPOINT=host:port           -> fragments/jaeger.yaml
#   OTEL_AGENTS_TEMPO_ENDPOINT=host:port            -> fragments/tempo.yaml
#   OTEL_AGENTS_PROMETHEUS_REMOTE_WRITE_URL=url     -> fragments/remote_write.yaml
#   OTEL_AGENTS_GATEWAY_ENDPOINTS='[h1:4317, h2:4317]' -> fragments/loadbalancing.yaml
#   OTEL_AGENTS_COLLECTOR_DEBUG=1                   -> fragments/debug.yaml
#   OTEL_AGENTS_COLLECTOR_CONFIG=path               replaces config.yaml (e.g. gateway.yaml)
#   OTEL_AGENTS_COLLECTOR_BIN=path                  skips build.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
args=(--config "${OTEL_AGENTS_COLLECTOR_CONFIG:-$here/config.yaml}")
if [[ -n "${OTEL_AGENTS_JAEGER_ENDPOINT:-}" ]]; then args+=(--config "$here/fragments/jaeger.yaml"); fi
if [[ -n "${OTEL_AGENTS_TEMPO_ENDPOINT:-}" ]]; then args+=(--config "$here/fragments/tempo.yaml"); fi
if [[ -n "${OTEL_AGENTS_PROMETHEUS_REMOTE_WRITE_URL:-}" ]]; then
	args+=(--config "$here/fragments/remote_write.yaml")
fi
if [[ -n "${OTEL_AGENTS_GATEWAY_ENDPOINTS:-}" ]]; then
	args+=(--config "$here/fragments/loadbalancing.yaml")
fi
if [[ "${OTEL_AGENTS_COLLECTOR_DEBUG:-0}" == 1 ]]; then args+=(--config "$here/fragments/debug.yaml"); fi

case "${1:-run}" in
print-args)
	printf '%s\n' "${args[@]}"
	exit 0
	;;
validate | run) ;;
*)
	echo "usage: $0 [run|validate|print-args]" >&2
	exit 2
	;;
esac

bin="${OTEL_AGENTS_COLLECTOR_BIN:-}"
if [[ -z "$bin" ]]; then bin="$("$here/build.sh")"; fi
if [[ "${1:-run}" == validate ]]; then
	exec "$bin" validate "${args[@]}"
fi
exec "$bin" "${args[@]}"
