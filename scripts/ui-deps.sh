#!/usr/bin/env bash
# Install what the browser tests drive: Debian's chromium and chromium-driver.
#
# Prints CHROMIUM_BIN=... and CHROMEDRIVER_BIN=... on stdout. Exit 3 means they are missing and
# cannot be installed here (no apt-get, or not root and no sudo): the browser tests then skip
# loudly on a developer machine and fail under CI=true. Any other failure is a real error.
set -euo pipefail

find_bins() {
	chromium="$(command -v chromium || command -v chromium-browser || true)"
	driver="$(command -v chromedriver || true)"
	[[ -x /usr/bin/chromedriver ]] && driver=/usr/bin/chromedriver
	[[ -n "$chromium" && -n "$driver" ]]
}

if ! find_bins; then
	if ! command -v apt-get >/dev/null 2>&1; then
		echo "scripts/ui-deps.sh: NO apt-get: chromium + chromium-driver missing, the browser tests will be SKIPPED." >&2
		exit 3
	fi
	sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		if ! sudo -n true 2>/dev/null; then
			echo "scripts/ui-deps.sh: not root and no sudo: the browser tests will be SKIPPED." >&2
			exit 3
		fi
		sudo=(sudo -n)
	fi
	echo "scripts/ui-deps.sh: installing chromium + chromium-driver from Debian packages" >&2
	"${sudo[@]}" apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
		chromium chromium-driver fonts-dejavu-core >&2
	find_bins
fi
echo "CHROMIUM_BIN=$chromium"
echo "CHROMEDRIVER_BIN=$driver"
