#!/usr/bin/env bash
# Build (or reuse) a Jaeger v2 binary from Go modules and print its path on stdout.
#
# Jaeger's module has no /v2 suffix and its go.mod carries a replace directive, so
# `go install .../cmd/jaeger@<version>` refuses it. Instead: download the module at a
# pinned version through the module proxy and `go build ./cmd/jaeger` inside it.
# The pin is tag v1.76.0, which is the same commit as Jaeger v2.13.0 (Jaeger tags both
# lines on one commit); newer v2 commits were not served by the module proxy here.
# The binary is cached outside the clone; Go's module/build caches make rebuilds cheap.
# Env: OTEL_AGENTS_CACHE (default ~/.cache/otel-agents), GO (path of the go binary).
set -euo pipefail

JAEGER_MODULE_VERSION=v1.76.0 # == Jaeger v2.13.0
JAEGER_V2_VERSION=v2.13.0
cache="${OTEL_AGENTS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/otel-agents}"
out_dir="$cache/jaeger/$JAEGER_V2_VERSION"
binary="$out_dir/jaeger"

if [[ -x "$binary" ]]; then
	echo "$binary"
	exit 0
fi

if [[ -n "${GO:-}" ]]; then
	go_bin="$GO"
else
	go_bin="$(command -v go || true)"
	if [[ -z "$go_bin" && -x /usr/local/go/bin/go ]]; then go_bin=/usr/local/go/bin/go; fi
fi
if [[ ! -x "$go_bin" ]]; then
	cat >&2 <<MSG
deploy/jaeger/build.sh: Go is not installed, so Jaeger $JAEGER_V2_VERSION cannot be built.
  Needed: Go >= 1.24 on PATH (or GO=/path/to/go), plus access to the Go module proxy.
MSG
	exit 3
fi

mkdir -p "$cache/jaeger"
exec 9>"$cache/jaeger/.lock"
flock 9
if [[ -x "$binary" ]]; then
	echo "$binary"
	exit 0
fi

export GOTOOLCHAIN=local
# The downloaded module is read-only and already has a complete go.sum.
export GOFLAGS=-mod=readonly
start=$(date +%s)
echo "deploy/jaeger/build.sh: building Jaeger $JAEGER_V2_VERSION (cold: several minutes)" >&2
src="$("$go_bin" mod download -json "github.com/jaegertracing/jaeger@$JAEGER_MODULE_VERSION" |
	sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
if [[ -z "$src" ]]; then
	echo "deploy/jaeger/build.sh: could not download github.com/jaegertracing/jaeger@$JAEGER_MODULE_VERSION" >&2
	exit 1
fi
mkdir -p "$out_dir"
(cd "$src" && "$go_bin" build -trimpath -ldflags='-s -w' -o "$binary.tmp" ./cmd/jaeger)
mv "$binary.tmp" "$binary"
echo "deploy/jaeger/build.sh: built in $(($(date +%s) - start)) s" >&2
echo "$binary"
