#!/usr/bin/env bash
# Build (or reuse) the otelcol-agents collector binary and print its path on stdout.
#
# The binary is cached outside the clone, keyed by collector version and a hash of
# manifest.yaml, so a second run costs well under a second; Go's own module and build
# caches are left where `go env` puts them, so even a manifest change rebuilds in a
# couple of minutes instead of a cold download. Logs go to stderr.
#
# Env: OTEL_AGENTS_CACHE (default ~/.cache/otel-agents), GO (path of the go binary).
set -euo pipefail

COLLECTOR_VERSION=0.159.0
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
manifest="$here/manifest.yaml"
cache="${OTEL_AGENTS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/otel-agents}"

find_go() {
	if [[ -n "${GO:-}" ]]; then
		if [[ -x "$GO" ]]; then echo "$GO"; fi
		return
	fi
	if command -v go >/dev/null 2>&1; then command -v go; return; fi
	if [[ -x /usr/local/go/bin/go ]]; then echo /usr/local/go/bin/go; return; fi
	return 1
}

hash="$(sha256sum "$manifest" | cut -c1-12)"
out_dir="$cache/collector/$COLLECTOR_VERSION-$hash"
binary="$out_dir/otelcol-agents"
if [[ -x "$binary" ]]; then
	echo "$binary"
	exit 0
fi

go_bin="$(find_go || true)"
if [[ -z "$go_bin" ]]; then
	cat >&2 <<MSG
collector/build.sh: Go is not installed, so the otelcol-agents collector cannot be built.
  Needed: Go >= 1.25 on PATH (or GO=/path/to/go), plus access to the Go module proxy.
  Install Go (a distribution package or the official release tarball), then: make collector
MSG
	exit 3
fi

mkdir -p "$cache/collector"
# Two test runs racing for a cold build would each spend minutes on it: serialise.
exec 9>"$cache/collector/.lock"
flock 9
if [[ -x "$binary" ]]; then
	echo "$binary"
	exit 0
fi

# GOTOOLCHAIN=local: never let a go.mod directive download another toolchain.
export GOTOOLCHAIN=local
builder_dir="$cache/tools/builder-v$COLLECTOR_VERSION"
if [[ ! -x "$builder_dir/builder" ]]; then
	echo "collector/build.sh: installing ocb v$COLLECTOR_VERSION into $builder_dir" >&2
	mkdir -p "$builder_dir"
	GOBIN="$builder_dir" "$go_bin" install "go.opentelemetry.io/collector/cmd/builder@v$COLLECTOR_VERSION"
fi

work="$out_dir.tmp"
rm -rf "$work"
mkdir -p "$work"
sed "s|^\(  output_path:\).*|\1 $work|" "$manifest" >"$work/manifest.yaml"
echo "collector/build.sh: building otelcol-agents $COLLECTOR_VERSION in $work (cold: several minutes)" >&2
start=$(date +%s)
# ocb runs `go` from PATH.
PATH="$(dirname "$go_bin"):$PATH" "$builder_dir/builder" --config "$work/manifest.yaml" >&2
echo "collector/build.sh: built in $(($(date +%s) - start)) s" >&2
rm -rf "$out_dir"
mv "$work" "$out_dir"
echo "$binary"
