"""CLI start-up benchmark: wall time of whole `otel-agents` processes, and the import time of the CLI."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.store_bench import build_query_store
from otel_agents.store import _paths as paths

# Usage:
#     .venv/bin/python -m bench.cli_bench                      # builds a 100,000-span store (~20 s)
#     .venv/bin/python -m bench.cli_bench --home /tmp/s100k    # reuse (or build once) a store
#
# Each case runs as a fresh `python -m otel_agents.cli ...` process, as a user's shell starts it;
# the figure is the median wall time (targets: doctor < 300 ms), with its ratio to a bare
# interpreter's start-up in the same run (the ratio survives a busy machine better). `import otel_agents.cli` is read
# from `python -X importtime` (cumulative microseconds, best of the repeats).
TARGETS_MS = {"doctor": 300}


def _wall_ms(args: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "otel_agents.cli", *args], capture_output=True, env=env, check=True)
    return (time.perf_counter() - t0) * 1000


def _import_us(env: dict[str, str]) -> int:
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import otel_agents.cli"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stderr
    match = re.search(r"\|\s*(\d+)\s*\| otel_agents\.cli$", out, re.MULTILINE)
    return int(match[1]) if match else -1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--spans", type=int, default=100_000)
    ap.add_argument("--home", type=Path, help="reuse (or build once) the store here")
    ap.add_argument("--repeats", type=int, default=9)
    args = ap.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="otel-agents-cli-bench-"))
    env = {**os.environ, "COLUMNS": "120"}
    try:
        if not paths.db_path(home).exists():
            build_query_store(home, args.spans)
        h = ["--home", str(home)]
        newest = subprocess.run(
            [sys.executable, "-m", "otel_agents.cli", "runs", "--json", "--limit", "1", *h],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        ).stdout
        run_id = json.loads(newest)[0]["run_id"]
        cases = [
            ["--help"],
            ["--version"],
            ["doctor", *h],
            ["runs", *h],
            ["runs", "--json", *h],
            ["stats", "--since", "1m", *h],
            ["trace", run_id, *h],
            ["graph", run_id, *h],
        ]
        best_import = min(_import_us(env) for _ in range(args.repeats))
        print(f"import otel_agents.cli: {best_import / 1000:.1f} ms (best of {args.repeats}, -X importtime)")
        bare = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], check=True, env=env)
            bare.append((time.perf_counter() - t0) * 1000)
        baseline = statistics.median(bare)
        print(
            f"whole processes on {home} (median of {args.repeats}; a bare `python -c pass`: {baseline:.1f} ms):"
        )
        for case in cases:
            times = [_wall_ms(case, env) for _ in range(args.repeats)]
            target = TARGETS_MS.get(case[0])
            note = f"   (target < {target} ms)" if target else ""
            label = " ".join(case[: len(case) - len(h)] if case[-len(h) :] == h else case)
            med = statistics.median(times)
            print(f"  {label:<28} {med:7.1f} ms  ({med / baseline:4.1f}x a bare interpreter){note}")
    finally:
        if args.home is None:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
