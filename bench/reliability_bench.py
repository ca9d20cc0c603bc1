"""The reliability targets of docs/reliability.md, measured: memory with huge values, drops, log cost.

Run: ``.venv/bin/python -m bench.reliability_bench`` (or ``make bench-reliability``); ``--seconds``
shortens the timed scenarios (the targets are stated for 60 s). Each scenario runs in its own
process, so its RSS is its own.

1. collector down: 1 MB attribute values at 1,000 spans/s to an OTLP endpoint that refuses
   connections. Target: RSS growth <= 64 MiB; every span exported or counted as dropped.
2. working exporter: 64 KiB values at 200 spans/s to a real OTLP/HTTP receiver on 127.0.0.1.
   Target: <= 1% of spans dropped.
3. log message: the caller's-thread cost of logging a 1 MiB message through the bridge, against
   the same call with the bridge's handler absent (ratio in the same run).
4. chain throughput: spans as fast as one thread makes them, each with a 64 KiB value never seen
   before, through configure()'s pipeline to a fast in-process exporter (``span_exporters``); the
   figure is the spans the exporter received per second, timed from the first span's start until
   the exporter has received every span that was not dropped (drops counted beside it).
   Target: >= 5,000 spans/s.

``--json PATH`` writes every scenario's result (``make bench-all`` writes
``bench/results/reliability.json``, which ``bench.perf_table`` reads).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

MIB = 1024 * 1024


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MIB


def _paced(rate: float, seconds: float, body: Any, halves: list[float] | None = None) -> tuple[int, float]:
    """Call ``body(i)`` ``rate`` times a second for ``seconds``; (calls made, peak RSS MiB). The peak
    RSS of each half of the run is appended to ``halves``, if given (a leak grows in the second)."""
    start = time.monotonic()
    peak = _rss_mib()
    next_sample = start
    half = -1.0
    i = 0
    while True:
        now = time.monotonic()
        if now - start >= seconds:
            peak = max(peak, _rss_mib())
            if halves is not None:
                halves += [half, peak]
            return i, peak
        due = int((now - start) * rate)
        while i < due:
            body(i)
            i += 1
        if now >= next_sample:
            peak = max(peak, _rss_mib())
            next_sample = now + 0.1
        if half < 0 and now - start >= seconds / 2:
            half = peak
        time.sleep(0.001)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once the socket is closed


def collector_down(seconds: float) -> dict[str, Any]:
    import otel_agents as oa
    from otel_agents.api import _counters as stats

    # OTEL_AGENTS_EXPORTER=otlp,store measures it with the local store writing as well.
    exporter = tuple(os.environ.get("OTEL_AGENTS_EXPORTER", "otlp").split(","))
    telemetry = oa.configure(
        exporter=exporter, otlp_endpoint=f"http://127.0.0.1:{_closed_port()}", export_timeout=1.0, logs=False
    )
    with oa.tool("warm-up") as t:
        t.set_attribute("blob", "w" * MIB)
    time.sleep(1)
    base = _rss_mib()

    def one(i: int) -> None:
        with oa.tool("big") as t:
            t.set_attribute("blob", chr(97 + i % 26) * 1_000_000)

    halves: list[float] = []
    made, peak = _paced(1000, seconds, one, halves)
    shutdown_start = time.monotonic()
    telemetry.shutdown(5)
    drops = stats.drops()
    return {
        "scenario": "collector_down",
        "spans": made,
        "seconds": seconds,
        "rss_base_mib": round(base, 1),
        "rss_peak_mib": round(peak, 1),
        "rss_growth_mib": round(peak - base, 1),
        "rss_growth_first_half_mib": round(halves[0] - base, 1),
        "shutdown_s": round(time.monotonic() - shutdown_start, 2),
        "dropped_counted": sum(drops.values()),
        "drops": drops,
    }


def working_exporter(seconds: float) -> dict[str, Any]:
    sys.path.insert(0, os.getcwd())
    import otel_agents as oa
    from otel_agents.api import _counters as stats
    from tests.support.otlp_receiver import Receiver

    receiver = Receiver()
    telemetry = oa.configure(exporter="otlp", otlp_endpoint=receiver.endpoint, logs=False)

    def one(i: int) -> None:
        with oa.tool("mid") as t:
            t.set_attribute("blob", chr(97 + i % 26) * 65536)

    made, peak = _paced(200, seconds, one)
    telemetry.shutdown(10)
    got = sum(1 for s in receiver.spans() if s.name == "execute_tool mid")
    receiver.close()
    return {
        "scenario": "working_exporter",
        "spans": made,
        "received": got,
        "dropped_pct": round(100 * (made - got) / max(made, 1), 3),
        "drops": stats.drops(),
        "rss_peak_mib": round(peak, 1),
    }


def chain_throughput(spans: int) -> dict[str, Any]:
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    import otel_agents as oa
    from otel_agents.api import _counters as stats

    class Counting(SpanExporter):
        """Counts what reaches it and notes when the last span it will get has arrived."""

        def __init__(self) -> None:
            self.received = 0
            self.last_at = 0.0

        def export(self, batch: Any) -> SpanExportResult:
            self.received += len(batch)
            self.last_at = time.perf_counter()
            return SpanExportResult.SUCCESS

    sink = Counting()
    telemetry = oa.configure(exporter="none", span_exporters=(sink,), logs=False)
    # The value's head is unique per span, so what truncation keeps (and redaction reads) is new.
    tail = "".join(chr(97 + (i * 7) % 26) for i in range(65536))
    for i in range(200):  # warm-up: code paths, the chain's threads
        with oa.tool("big") as t:
            t.set_attribute("blob", f"warm-{i}-" + tail)
    telemetry.force_flush(30)
    warm = sink.received
    drops0 = sum(stats.drops().values())
    start = time.perf_counter()
    for i in range(spans):
        with oa.tool("big") as t:
            t.set_attribute("blob", f"{i:x}-{time.time_ns()}-" + tail[:65500])
    made_s = time.perf_counter() - start
    telemetry.force_flush(60)
    received = sink.received - warm
    dropped = sum(stats.drops().values()) - drops0
    elapsed = max(sink.last_at, start + made_s) - start
    telemetry.shutdown(10)
    return {
        "scenario": "chain_throughput",
        "spans": spans,
        "received": received,
        "dropped_counted": dropped,
        "drops": stats.drops(),
        "producer_s": round(made_s, 3),
        "all_in_s": round(elapsed, 3),
        "spans_per_s": round(received / elapsed, 1),
        "producer_spans_per_s": round(spans / made_s, 1),
    }


def log_cost(rounds: int) -> dict[str, Any]:
    import otel_agents as oa

    telemetry = oa.configure(exporter="none")
    log = logging.getLogger("bench.app")
    log.propagate = True
    message = "q" * MIB
    root = logging.getLogger()
    bridge = telemetry._log_bridge
    assert bridge is not None

    def timed() -> float:
        start = time.perf_counter()
        log.warning(message)
        return (time.perf_counter() - start) * 1000

    for _ in range(3):
        timed()
    with_bridge, without = [], []
    for _ in range(rounds):
        with_bridge.append(timed())
        root.removeHandler(bridge.handler)
        without.append(timed())
        root.addHandler(bridge.handler)
    telemetry.shutdown(5)
    return {
        "scenario": "log_1mib",
        "ms_with_bridge": round(statistics.median(with_bridge), 3),
        "ms_without": round(statistics.median(without), 3),
        "ratio": round(
            statistics.median(w / max(o, 1e-6) for w, o in zip(with_bridge, without, strict=True)), 2
        ),
    }


SCENARIOS = ("collector_down", "working_exporter", "log_1mib", "chain_throughput")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--spans", type=int, default=20_000, help="spans in the throughput scenario")
    parser.add_argument("--only", choices=SCENARIOS, nargs="+", help="run only these scenarios")
    parser.add_argument("--json", type=Path, help="also write every scenario's result here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        logging.basicConfig(level=logging.WARNING, stream=open(os.devnull, "w"))  # noqa: SIM115
        fn = {"collector_down": collector_down, "working_exporter": working_exporter}.get(args.child)
        if fn is not None:
            result = fn(args.seconds)
        elif args.child == "chain_throughput":
            result = chain_throughput(args.spans)
        else:
            result = log_cost(50)
        print(json.dumps(result))
        return
    results: dict[str, Any] = {}
    for name in args.only or SCENARIOS:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith("OTEL_") or k == "OTEL_AGENTS_EXPORTER"
        }
        env["OTEL_AGENTS_HOME"] = env.get("TMPDIR", "/tmp") + "/otel-agents-bench-home"
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.reliability_bench",
                "--child",
                name,
                "--seconds",
                str(args.seconds),
                "--spans",
                str(args.spans),
            ],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        line = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else out.stderr[-2000:]
        print(line, flush=True)
        try:
            results[name] = json.loads(line)
        except ValueError:
            results[name] = {"scenario": name, "error": line[-500:]}
    from bench import _results

    _results.write(args.json, "reliability", results, seconds=args.seconds, spans=args.spans)


if __name__ == "__main__":
    main()
