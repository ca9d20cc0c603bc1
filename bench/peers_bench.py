"""The same agent workflow through otel-agents and its peers, each against the plain OTel SDK.

Run: ``make bench-peers`` (installs the peers first), or ``.venv/bin/python -m bench.peers_bench``
once ``bash bench/peers/setup.sh`` has built their venvs.

Every peer lives in its own venv under ``~/.cache/otel-agents/bench-peers/<name>`` (versions as
PyPI resolved them; the table names them); otel-agents runs in this project's venv. Each system
runs ``bench/peers/workflow.py`` in its own process, which measures the system and the plain SDK
baseline side by side there (interleaved rounds, medians of per-round ratios, flushes inside the
timed window); processes run one after another so no two compete for the CPU. Nothing leaves the
machine: see ``workflow.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import _results

ROOT = Path(__file__).resolve().parents[1]
WORKER = ROOT / "bench" / "peers" / "workflow.py"
VENVS = Path(os.environ.get("BENCH_PEERS_HOME", Path.home() / ".cache" / "otel-agents" / "bench-peers"))
# The order: ours first, then the peers.
SYSTEMS = {
    "otel-agents": "otel-agents (all in)",
    "traceloop": "OpenLLMetry (traceloop-sdk)",
    "openinference": "OpenInference",
    "langfuse": "Langfuse",
    "logfire": "Logfire",
}


def python_for(system: str) -> Path | None:
    """The interpreter that has ``system`` installed, or None when its venv is missing."""
    if system == "otel-agents":
        return Path(sys.executable)
    python = VENVS / system / "bin" / "python"
    # setup.sh writes .reqs once the install finished.
    return python if (VENVS / system / ".reqs").exists() else None


def run_one(system: str, rounds: int, workflows: int, timeout: float) -> dict[str, Any]:
    """One system's process; its JSON result, or ``{"error": ...}``."""
    python = python_for(system)
    if python is None:
        return {"system": system, "error": f"no venv at {VENVS / system} (run bash bench/peers/setup.sh)"}
    argv = [
        str(python),
        str(WORKER),
        "--system",
        system,
        "--rounds",
        str(rounds),
        "--workflows",
        str(workflows),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT) if system == "otel-agents" else ""}
    try:
        done = subprocess.run(
            argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"system": system, "error": f"timed out after {timeout:g} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"system": system, "error": f"exit {done.returncode}: " + " | ".join(tail)}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--workflows", type=int, default=500, help="workflows per round and side")
    parser.add_argument("--systems", nargs="+", choices=list(SYSTEMS), default=list(SYSTEMS))
    parser.add_argument("--timeout", type=float, default=240, help="seconds per system process")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    results = [run_one(s, args.rounds, args.workflows, args.timeout) for s in args.systems]
    ok = [r for r in results if "error" not in r]
    plain = statistics.median(r["plain_us"] for r in ok) if ok else float("nan")
    print(f"{args.rounds} rounds x {args.workflows} workflows per system; one process per system")
    print(f"plain SDK: {plain:.1f} us per workflow (median over the processes)\n")
    print(f"| {'system':<40} | ratio to plain SDK |")
    print(f"|{'-' * 42}|{'-' * 20}|")
    for r in results:
        label = SYSTEMS[r["system"]] + (f" {r['version']}" if "version" in r else "")
        figure = f"{r['ratio']:.2f}x" if "error" not in r else "not measured"
        print(f"| {label:<40} | {figure:>18} |")
    for r in results:
        if "error" in r:
            print(f"{r['system']}: {r['error']}")
        elif r["spans_per_workflow"] != r["plain_spans_per_workflow"]:
            print(f"{r['system']}: exported {r['spans_per_workflow']:g} spans per workflow (plain SDK: 4)")
        if r.get("blocked_network"):
            print(f"{r['system']}: refused to leave the machine: {', '.join(r['blocked_network'])}")
    _results.write(
        args.json,
        "peers",
        {"plain_us": plain, "systems": {r["system"]: r for r in results}},
        rounds=args.rounds,
        workflows=args.workflows,
    )


if __name__ == "__main__":
    main()
