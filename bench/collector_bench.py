"""Collector benchmark: spans/s one otelcol-agents core accepts, and Python OTLP/HTTP vs gRPC export cost.

Run with `make bench-collector` (not part of `make test`). The collector runs the bundled
config (file + Prometheus + span metrics, no trace backend) pinned to one CPU with
GOMAXPROCS=1; this process is pinned to the other CPU and exports pre-built spans through
the SDK's OTLP exporters, first over HTTP/protobuf, then over gRPC, in the same run.

Reported per protocol:
  - python spans/s per core: spans exported / CPU seconds this process spent exporting
  - collector spans/s per core: spans the collector accepted / CPU seconds it consumed
  - wall spans/s: end-to-end rate this pair achieved on this machine

Then, against the stock SDK in the same run (OTLP/HTTP to the same collector, interleaved rounds,
medians of per-round ratios of spans per CPU second, ours over stock):
  - exporter: otel-agents' trace exporter as configure() builds it (``otlp_exporter``) against the
    stock ``OTLPSpanExporter``, both exporting the same pre-built batches;
  - whole pipeline: the same agent-shaped spans made with the OTel tracer API, each side in its own
    process, through ``configure(exporter="otlp")`` against a stock ``TracerProvider`` +
    ``BatchSpanProcessor`` + ``OTLPSpanExporter``; CPU of every thread of the process from the first
    span until ``force_flush`` returned, and the collector must have accepted every span (both
    sides' queues are sized to hold them all; the other settings are the defaults);
  - steady load: the same, with the workflows started at a fixed rate (``--per-second``, 250 by
    default: 1,000 spans/s) instead of as fast as possible, and the OTLP requests each side made a
    second (a request has a fixed cost, on both ends, that small batches pay many times over).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc (Linux only)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def accepted_spans(telemetry_url: str) -> float:
    text = urllib.request.urlopen(telemetry_url, timeout=5).read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith("otelcol_receiver_accepted_spans"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def make_spans(count: int) -> list[Any]:
    """Agent-shaped spans (2-7 GenAI attributes each), built once and exported repeatedly."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

    class Keep(SpanExporter):
        def __init__(self) -> None:
            self.spans: list[Any] = []

        def export(self, spans: Any) -> SpanExportResult:
            self.spans.extend(spans)
            return SpanExportResult.SUCCESS

    keep = Keep()
    provider = TracerProvider(resource=Resource.create({"service.name": "collector-bench"}))
    provider.add_span_processor(SimpleSpanProcessor(keep))
    workflows(provider.get_tracer("bench"), count // 4)
    provider.shutdown()
    return keep.spans


def workflows(tracer: Any, count: int, offset: int = 0) -> None:
    """``count`` workflow > agent > (LLM call, tool) traces of four spans, fresh ids per trace."""
    for i in range(offset, offset + count):
        with tracer.start_as_current_span("invoke_workflow support_run") as wf:
            wf.set_attribute("gen_ai.operation.name", "invoke_workflow")
            wf.set_attribute("otel_agents.run.id", f"run-{i}")
            with tracer.start_as_current_span("invoke_agent researcher") as ag:
                ag.set_attribute("gen_ai.operation.name", "invoke_agent")
                ag.set_attribute("gen_ai.agent.name", "researcher")
                with tracer.start_as_current_span("chat gpt-4o-mini") as llm:
                    llm.set_attribute("gen_ai.operation.name", "chat")
                    llm.set_attribute("gen_ai.request.model", "gpt-4o-mini")
                    llm.set_attribute("gen_ai.provider.name", "openai")
                    llm.set_attribute("gen_ai.usage.input_tokens", 812)
                    llm.set_attribute("gen_ai.usage.output_tokens", 97)
                    llm.set_attribute("otel_agents.cost.usd", 0.00018)
                with tracer.start_as_current_span("execute_tool lookup_customer") as tool:
                    tool.set_attribute("gen_ai.operation.name", "execute_tool")
                    tool.set_attribute("gen_ai.tool.name", "lookup_customer")
                    tool.set_attribute("gen_ai.tool.call.id", f"call-{i}")
                    tool.set_attribute("otel_agents.tool.call.arguments_summary", "x" * 200)


def paced_workflows(tracer: Any, count: int, per_second: float, offset: int = 0) -> None:
    """``count`` workflows (as ``workflows``), started ``per_second`` apart on a fixed schedule."""
    step = 1 / per_second
    due = time.perf_counter()
    for i in range(offset, offset + count):
        workflows(tracer, 1, offset=i)
        due += step
        wait = due - time.perf_counter()
        if wait > 0:
            time.sleep(wait)


def count_requests() -> list[int]:
    """From now on, every OTLP/HTTP trace request this process sends adds one to the list's item
    (counted at the stock exporters' shared HTTP client, which both sides send through)."""
    from opentelemetry.exporter.otlp.common.http import _OTLPHTTPClient

    calls = [0]
    export = _OTLPHTTPClient.export

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(self, "_kind", "spans") == "spans":
            calls[0] += 1
        return export(self, *args, **kwargs)

    _OTLPHTTPClient.export = counted  # type: ignore[method-assign]
    return calls


def pipeline_child(side: str, endpoint: str, spans: int, per_second: float = 0.0) -> dict[str, float]:
    """In this (fresh) process: CPU seconds to make and export ``spans`` spans through ``side``, as
    fast as it can or, given ``per_second``, that many workflows a second (steady load)."""
    from opentelemetry.sdk.trace import TracerProvider

    calls = count_requests()

    # Queues long enough for every span on both sides: the figure is the CPU cost of a delivered
    # span, not how much a default-sized queue sheds when the producer outruns the exporter.
    queue = spans + 2000
    if side == "ours":
        import otel_agents as oa

        telemetry = oa.configure(
            exporter="otlp",
            otlp_endpoint=endpoint.rsplit("/v1/", 1)[0],
            max_queue_size=queue,
            max_queue_bytes=queue * 1024,
        )
        provider: TracerProvider = telemetry.tracer_provider
        flush: Any = telemetry.force_flush
        from otel_agents.api import _pricing

        _pricing.wait_loaded(60)  # the price table loads once per process, not per span
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        provider = TracerProvider(resource=Resource.create({"service.name": "collector-bench"}))
        exporter = OTLPSpanExporter(endpoint=endpoint, timeout=30)
        provider.add_span_processor(BatchSpanProcessor(exporter, max_queue_size=queue))
        flush = provider.force_flush
    tracer = provider.get_tracer("bench")
    workflows(tracer, 250)  # warm-up: connections, code paths, caches
    flush(30)
    requests0 = calls[0]
    wall0, cpu0 = time.perf_counter(), time.process_time()
    if per_second:
        paced_workflows(tracer, spans // 4, per_second, offset=250)
    else:
        workflows(tracer, spans // 4, offset=250)
    if flush(120) is False:
        raise RuntimeError(f"{side}: force_flush timed out")
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {
        "spans": spans // 4 * 4,
        "warm_up_spans": 1000,
        "cpu_s": cpu,
        "wall_s": wall,
        # Our pipeline's metric exports go through the same client, as kind "metrics": not counted.
        "requests": calls[0] - requests0,
    }


def measure_pipeline(side: str, col: dict[str, Any], spans: int, per_second: float = 0.0) -> dict[str, float]:
    accepted0 = accepted_spans(col["telemetry"])
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["OTEL_AGENTS_HOME"] = tempfile.mkdtemp(prefix="collector-bench-home-")
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [
            sys.executable,
            str(Path(__file__)),
            "--child",
            side,
            "--endpoint",
            col["http"],
            "--spans",
            str(spans),
            "--per-second",
            str(per_second),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    shutil.rmtree(env["OTEL_AGENTS_HOME"], ignore_errors=True)
    if done.returncode != 0:
        raise RuntimeError(f"pipeline {side} failed: {done.stderr[-2000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    time.sleep(2.5)
    # Our pipeline also sends the collector its span-derived metrics; only spans count here.
    result["accepted"] = accepted_spans(col["telemetry"]) - accepted0 - result["warm_up_spans"]
    result["spans_per_core_s"] = result["spans"] / result["cpu_s"]
    result["requests_per_s"] = result["requests"] / result["wall_s"]
    return result


def compare(
    col: dict[str, Any], spans: list[Any], batch: int, rounds: int, per_second: float, paced_spans: int
) -> dict[str, Any]:
    """otel-agents' exporter and whole pipeline against the stock SDK's, ``rounds`` interleaved rounds."""
    from otel_agents.sdk._exporter_setup import otlp_exporter
    from otel_agents.sdk._options import resolve

    ours_exporter = otlp_exporter(resolve(otlp_endpoint=col["http"].rsplit("/v1/", 1)[0]), "traces")
    exporter_rounds: list[dict[str, float]] = []
    pipeline_rounds: list[dict[str, Any]] = []
    paced_rounds: list[dict[str, Any]] = []
    for r in range(rounds):
        order = ("stock", "ours") if r % 2 == 0 else ("ours", "stock")
        one: dict[str, Any] = {}
        for side in order:
            one[side] = measure("http", col, spans, batch, exporter=ours_exporter if side == "ours" else None)
        exporter_rounds.append(one)
        one = {}
        for side in order:
            one[side] = measure_pipeline(side, col, len(spans))
            if one[side]["accepted"] < one[side]["spans"]:
                raise RuntimeError(f"pipeline {side}: the collector accepted {one[side]}")
        pipeline_rounds.append(one)
        one = {}
        for side in order:
            one[side] = measure_pipeline(side, col, paced_spans, per_second)
            if one[side]["accepted"] < one[side]["spans"]:
                raise RuntimeError(f"steady pipeline {side}: the collector accepted {one[side]}")
        paced_rounds.append(one)
    ours_exporter.shutdown()

    def ratios(rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
        per_round = [row["ours"][key] / row["stock"][key] for row in rows]
        return {
            "ratio": statistics.median(per_round),
            "ratios": per_round,
            "ours_spans_per_core_s": statistics.median(row["ours"][key] for row in rows),
            "stock_spans_per_core_s": statistics.median(row["stock"][key] for row in rows),
        }

    steady = ratios(paced_rounds, "spans_per_core_s")
    for side in ("ours", "stock"):
        steady[f"{side}_requests_per_s"] = statistics.median(
            row[side]["requests_per_s"] for row in paced_rounds
        )
    return {
        "exporter": ratios(exporter_rounds, "python_spans_per_core_s"),
        "pipeline": ratios(pipeline_rounds, "spans_per_core_s"),
        "steady": {**steady, "workflows_per_s": per_second, "spans": paced_spans},
        "rounds": rounds,
        "spans": len(spans),
        "protocol": "http/protobuf",
        "receiver": "otelcol-agents built from collector/",
    }


@contextlib.contextmanager
def collector(binary: str, workdir: Path) -> Iterator[dict[str, Any]]:
    env = {
        **os.environ,
        "GOMAXPROCS": "1",
        "OTEL_AGENTS_COLLECTOR_BIN": binary,
        "OTEL_AGENTS_COLLECTOR_OTLP_GRPC_PORT": str(free_port()),
        "OTEL_AGENTS_COLLECTOR_OTLP_HTTP_PORT": str(free_port()),
        "OTEL_AGENTS_COLLECTOR_HEALTH_PORT": str(free_port()),
        "OTEL_AGENTS_COLLECTOR_PROMETHEUS_PORT": str(free_port()),
        "OTEL_AGENTS_COLLECTOR_TELEMETRY_PORT": str(free_port()),
        "OTEL_AGENTS_COLLECTOR_DATA_DIR": str(workdir / "data"),
        "OTEL_AGENTS_COLLECTOR_FILE_DIR": str(workdir / "files"),
        "OTEL_AGENTS_COLLECTOR_MEMORY_LIMIT_MIB": "2048",
        "OTEL_AGENTS_COLLECTOR_MEMORY_SPIKE_MIB": "512",
    }
    cpu = str(max(os.sched_getaffinity(0)))
    argv = ["taskset", "-c", cpu, "bash", str(ROOT / "collector/run.sh")]
    log = (workdir / "collector.log").open("wb")
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        health = f"http://{HOST}:{env['OTEL_AGENTS_COLLECTOR_HEALTH_PORT']}/"
        deadline = time.monotonic() + 60
        while True:
            try:
                if urllib.request.urlopen(health, timeout=1).status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield {
            "pid": proc.pid,
            "cpu": cpu,
            "http": f"http://{HOST}:{env['OTEL_AGENTS_COLLECTOR_OTLP_HTTP_PORT']}/v1/traces",
            "grpc": f"{HOST}:{env['OTEL_AGENTS_COLLECTOR_OTLP_GRPC_PORT']}",
            "telemetry": f"http://{HOST}:{env['OTEL_AGENTS_COLLECTOR_TELEMETRY_PORT']}/metrics",
        }
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def exporter_for(protocol: str, col: dict[str, Any]) -> Any:
    if protocol == "http":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=col["http"], timeout=30)
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as Grpc

    return Grpc(endpoint=col["grpc"], insecure=True, timeout=30)


def measure(
    protocol: str, col: dict[str, Any], spans: list[Any], batch: int, exporter: Any = None
) -> dict[str, float]:
    from opentelemetry.sdk.trace.export import SpanExportResult

    own = exporter is None
    exporter = exporter or exporter_for(protocol, col)
    batches = [spans[i : i + batch] for i in range(0, len(spans), batch)]
    for b in batches[:5]:  # warm-up: connections, code paths
        assert exporter.export(b) is SpanExportResult.SUCCESS
    time.sleep(1.5)
    accepted0 = accepted_spans(col["telemetry"])
    col_cpu0 = proc_cpu_seconds(col["pid"])
    wall0, cpu0 = time.perf_counter(), time.process_time()
    sent = 0
    for b in batches:
        if exporter.export(b) is not SpanExportResult.SUCCESS:
            raise RuntimeError(f"{protocol} export failed")
        sent += len(b)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    # The collector's counters and the file exporter settle within a second or two.
    time.sleep(2.5)
    accepted = accepted_spans(col["telemetry"]) - accepted0
    col_cpu = proc_cpu_seconds(col["pid"]) - col_cpu0
    if own:
        exporter.shutdown()
    return {
        "spans": sent,
        "accepted": accepted,
        "wall_s": wall,
        "python_cpu_s": cpu,
        "collector_cpu_s": col_cpu,
        "python_spans_per_core_s": sent / cpu,
        "collector_spans_per_core_s": accepted / col_cpu if col_cpu else float("nan"),
        "wall_spans_per_s": sent / wall,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds against the stock SDK")
    parser.add_argument(
        "--per-second",
        type=float,
        default=250.0,
        help="workflows a second in the steady-load pipeline rounds",
    )
    parser.add_argument("--paced-spans", type=int, default=8_000, help="spans per steady-load pipeline round")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--child", choices=("ours", "stock"), help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(pipeline_child(args.child, args.endpoint, args.spans, args.per_second)))
        return 0

    if shutil.which("taskset") is None or len(os.sched_getaffinity(0)) < 2:
        print("needs taskset and 2 CPUs (collector on one, this process on another)")
        return 2
    build = subprocess.run(
        ["bash", str(ROOT / "collector/build.sh")], capture_output=True, text=True, check=False
    )
    if build.returncode != 0:
        print(build.stderr)
        return build.returncode
    binary = build.stdout.strip()
    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[0]})

    spans = make_spans(args.spans)
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="collector-bench-") as tmp:
        with collector(binary, Path(tmp)) as col:
            for protocol in ("http", "grpc"):
                results[protocol] = measure(protocol, col, spans, args.batch)
            vs_stock = compare(col, spans, args.batch, args.rounds, args.per_second, args.paced_spans)
        log = (Path(tmp) / "collector.log").read_text()
    noisy = [line for line in log.splitlines() if re.search(r"\t(warn|error)\t", line)]

    print(f"otelcol-agents ({binary}) on CPU {cpus[-1]}, GOMAXPROCS=1; Python on CPU {cpus[0]}")
    print(f"{len(spans)} spans, batches of {args.batch}, bundled config (file + prometheus)\n")
    header = ("protocol", "python spans/s/core", "collector spans/s/core", "wall spans/s", "lost")
    print("{:<9} {:>20} {:>23} {:>13} {:>6}".format(*header))
    for protocol, r in results.items():
        print(
            f"{protocol:<9} {r['python_spans_per_core_s']:>20,.0f} "
            f"{r['collector_spans_per_core_s']:>23,.0f} {r['wall_spans_per_s']:>13,.0f} "
            f"{int(r['spans'] - r['accepted']):>6}"
        )
    print(
        f"\nagainst the stock SDK, OTLP/HTTP, median of {args.rounds} interleaved rounds (spans/s per core):"
    )
    for part, label in (("exporter", "exporter alone"), ("pipeline", "whole pipeline")):
        r = vs_stock[part]
        print(
            f"  {label:<16} ours {r['ours_spans_per_core_s']:>9,.0f}  stock {r['stock_spans_per_core_s']:>9,.0f}"
            f"  {r['ratio']:.2f}x   (target >= 1.5x)"
        )
    r = vs_stock["steady"]
    print(
        f"  {'steady load':<16} ours {r['ours_spans_per_core_s']:>9,.0f}  stock {r['stock_spans_per_core_s']:>9,.0f}"
        f"  {r['ratio']:.2f}x   ({args.per_second:g} workflows/s; OTLP requests/s: ours "
        f"{r['ours_requests_per_s']:.1f}, stock {r['stock_requests_per_s']:.1f})"
    )
    if noisy:
        print("\ncollector warnings/errors during the run:\n" + "\n".join(noisy[:10]))
    sys.path.insert(0, str(ROOT))
    from bench import _results

    _results.write(args.json, "collector", {**results, "vs_stock": vs_stock}, batch=args.batch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
