#!/usr/bin/env bash
# Build or reuse everything the end-to-end tests start, then print KEY=VALUE lines
# (OTEL_AGENTS_COLLECTOR_BIN, JAEGER_BIN, PROMETHEUS_BIN, PROMTOOL_BIN, ALERTMANAGER_BIN) on stdout.
#
# Exit 3 means Go is missing (the only reason the e2e tests may skip); any other
# failure is a real error. Heavy builds are cached under ~/.cache/otel-agents.
# --prometheus-only: just make sure prometheus, promtool and alertmanager are installed (no Go needed).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

build() {
	local status=0 out
	out="$(bash "$1")" || status=$?
	if [[ $status -eq 3 ]]; then
		echo "scripts/e2e-deps.sh: NO GO TOOLCHAIN: the end-to-end tests will be SKIPPED." >&2
		exit 3
	elif [[ $status -ne 0 ]]; then
		exit "$status"
	fi
	echo "$out"
}
prometheus_only=0
if [[ "${1:-}" == --prometheus-only ]]; then prometheus_only=1; fi
if [[ $prometheus_only -eq 0 ]]; then
	collector="$(build "$root/collector/build.sh")"
	jaeger="$(build "$root/deploy/jaeger/build.sh")"
fi

if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1 \
	|| ! command -v prometheus-alertmanager >/dev/null 2>&1; then
	echo "scripts/e2e-deps.sh: installing prometheus, promtool, alertmanager from Debian packages" >&2
	sudo=()
	if [[ $(id -u) -ne 0 ]]; then sudo=(sudo -n); fi
	"${sudo[@]}" apt-get update -qq >&2
	# The package's postinst cannot start a service without systemd; that is fine,
	# the tests start their own instance.
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
		prometheus prometheus-alertmanager >&2
fi

if [[ $prometheus_only -eq 0 ]]; then
	echo "OTEL_AGENTS_COLLECTOR_BIN=$collector"
	echo "JAEGER_BIN=$jaeger"
fi
echo "PROMETHEUS_BIN=$(command -v prometheus)"
echo "PROMTOOL_BIN=$(command -v promtool)"
echo "ALERTMANAGER_BIN=$(command -v prometheus-alertmanager)"
