"""UI benchmark: each page of `otel-agents ui` over real HTTP on a store of 100k spans."""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.store_bench import build_query_store
from otel_agents.store import _paths as paths

# Usage:
#     .venv/bin/python -m bench.ui_bench                       # builds a 100,000-span store (~20 s)
#     .venv/bin/python -m bench.ui_bench --home /tmp/s100k     # reuse (or build once) a store
#
# Starts the real server (`otel-agents ui --port 0`, uvicorn on 127.0.0.1) as a subprocess and times
# full GETs with httpx (request, render, transfer) after one warm-up request per page: the runs
# page (target < 300 ms), a filtered runs page, the live-refresh fragment, one run, the agent graph
# of the last 24 hours and of one run, and the stats page.
TARGET_MS = 300


def _serve(home: Path) -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [sys.executable, "-m", "otel_agents.cli", "ui", "--port", "0", "--home", str(home)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert server.stdout is not None
    line = server.stdout.readline()
    if not line.startswith("otel-agents ui: http://"):
        server.kill()
        raise SystemExit(f"the UI did not start: {line!r}")
    return server, line.split()[2].rstrip("/")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--spans", type=int, default=100_000)
    ap.add_argument("--home", type=Path, help="reuse (or build once) the store here")
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="otel-agents-ui-bench-"))
    try:
        if not paths.db_path(home).exists():
            build_query_store(home, args.spans)
        server, url = _serve(home)
        try:
            with httpx.Client(base_url=url, timeout=30) as http:
                run_id = (
                    http.get("/fragment/runs", params={"limit": 1}).text.split('href="/run/')[1].split('"')[0]
                )
                pages = [
                    ("runs page /", "/"),
                    ("runs, status=error", "/?status=error"),
                    ("runs, name + since 24h", "/?name=support_triage&since=24h"),
                    ("live-refresh fragment", "/fragment/runs"),
                    ("one run", f"/run/{run_id}"),
                    ("agent graph, 24h", "/graph"),
                    ("agent graph, one run", f"/graph?run={run_id}"),
                    ("stats by agent, 24h", "/stats"),
                ]
                spans = http.get("/stats", params={"since": "30d"}).status_code
                assert spans == 200
                print(f"UI pages over HTTP on {home} (median / max of {args.repeats}, after one warm-up):")
                for label, path in pages:
                    http.get(path).raise_for_status()
                    times = []
                    for _ in range(args.repeats):
                        t0 = time.perf_counter()
                        response = http.get(path)
                        times.append((time.perf_counter() - t0) * 1000)
                        response.raise_for_status()
                    med = statistics.median(times)
                    note = f"   (target < {TARGET_MS} ms)" if path == "/" else ""
                    print(
                        f"  {label:<26} {med:8.1f} ms  max {max(times):7.1f} ms  {len(response.content):>8,} B{note}"
                    )
        finally:
            server.terminate()
            server.wait(timeout=10)
    finally:
        if args.home is None:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
