"""CLI start-up benchmark: wall time of whole `otel-agents` processes, and the import time of the CLI."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import _results
from bench.store_bench import build_query_store, cached_query_store
from otel_agents.store import _paths as paths

# Usage:
#     .venv/bin/python -m bench.cli_bench                      # a 1,000,000-span store, built once
#     .venv/bin/python -m bench.cli_bench --spans 100000       # a smaller one (~20 s to build)
#     .venv/bin/python -m bench.cli_bench --home /tmp/s100k    # reuse (or build once) a store here
#
# Without --home the store is built once per schema version and size under
# ~/.cache/otel-agents/bench-stores (BENCH_STORES overrides) and reused by later runs.
# Each case runs as a fresh `python -m otel_agents.cli ...` process, as a user's shell starts it;
# the figures are the median wall time to the process's first byte on stdout and to its exit
# (targets: `runs` to first output < 80 ms, doctor < 300 ms), with the exit time's ratio to a bare
# interpreter's start-up in the same run (the ratio survives a busy machine better).
# `import otel_agents.cli` is read from `python -X importtime` (cumulative microseconds, best of
# the repeats).
TARGETS_MS = {"doctor": 300, "runs": 80}


def _wall_ms(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(ms to the first byte on stdout, ms to exit) of one whole CLI process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "otel_agents.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    assert proc.stdout is not None
    proc.stdout.read(1)
    first = time.perf_counter()
    proc.stdout.read()
    if proc.wait() != 0:
        raise subprocess.CalledProcessError(proc.returncode, args)
    end = time.perf_counter()
    return (first - t0) * 1000, (end - t0) * 1000


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
    ap.add_argument("--spans", type=int, default=1_000_000, help="spans in the store")
    ap.add_argument("--home", type=Path, help="reuse (or build once) the store here")
    ap.add_argument("--no-cache", action="store_true", help="build a fresh store in a temporary directory")
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    temporary = args.home is None and args.no_cache
    if args.home is not None:
        home = args.home
    elif temporary:
        home = Path(tempfile.mkdtemp(prefix="otel-agents-cli-bench-"))
    else:
        home = cached_query_store(args.spans)
    env = {**os.environ, "COLUMNS": "120"}
    figures: dict[str, Any] = {"spans": args.spans, "repeats": args.repeats, "cases": {}}
    try:
        if not paths.db_path(home).exists():
            build_query_store(home, args.spans)
        with sqlite3.connect(f"file:{paths.db_path(home)}?mode=ro", uri=True) as conn:
            figures["spans"] = conn.execute("SELECT count(*) FROM spans").fetchone()[0]
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
        figures.update(import_ms=best_import / 1000, bare_ms=baseline)
        print(
            f"whole processes on {home} (median of {args.repeats}; a bare `python -c pass`: {baseline:.1f} ms):"
        )
        print(f"  {'':<28} {'first output':>12} {'exit':>10}")
        for case in cases:
            firsts, ends = zip(*(_wall_ms(case, env) for _ in range(args.repeats)), strict=True)
            target = TARGETS_MS.get(case[0]) if case[0] in ("doctor", "runs") and len(case) == 3 else None
            note = f"   (target < {target} ms)" if target else ""
            label = " ".join(case[: len(case) - len(h)] if case[-len(h) :] == h else case)
            first, med = statistics.median(firsts), statistics.median(ends)
            figures["cases"][label] = {"first_output_ms": first, "exit_ms": med, "vs_bare": med / baseline}
            print(
                f"  {label:<28} {first:9.1f} ms {med:7.1f} ms  ({med / baseline:4.1f}x a bare interpreter){note}"
            )
    finally:
        if temporary:
            shutil.rmtree(home, ignore_errors=True)
    _results.write(args.json, "cli", figures)


if __name__ == "__main__":
    main()
