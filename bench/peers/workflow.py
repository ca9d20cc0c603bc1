"""One system's cost for the same agent workflow, against the plain OTel SDK in the same process.

Run by ``bench/peers_bench.py`` with the Python of the system's own venv:
``python bench/peers/workflow.py --system NAME``; prints one JSON object on its last line.

The workflow: workflow > agent > tool + LLM call with usage, about ten attributes in all, a fresh
trace, a fresh tool call id and a fresh response id on every iteration. Each system writes it in
its own idiomatic API; the baseline writes it with the plain SDK tracer on its own provider
(``BatchSpanProcessor`` and a discarding exporter). Nothing leaves the machine: every system
exports to a discarding exporter, cloud export is off and keys are dummies. Rounds interleave the
two sides; each side's time includes flushing its provider, so work deferred to threads counts.

This file imports only the OTel SDK at module level: each system's package exists only in its venv.
"""

from __future__ import annotations

import argparse
import gc
import ipaddress
import json
import os
import socket
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from importlib import metadata
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.trace import Tracer

MODEL = "gpt-4o-mini"
QUERY = {"q": "acme", "limit": 10}
Workflow = Callable[[], None]
Flush = Callable[[], None]


class Discard(SpanExporter):
    """Counts every span it is given and keeps none: the exporter every side shares."""

    def __init__(self) -> None:
        self.count = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.count += len(spans)
        return SpanExportResult.SUCCESS


def _fresh() -> str:
    return uuid.uuid4().hex


def plain_workflow(tracer: Tracer) -> Workflow:
    """The baseline workflow: the same four spans through a plain SDK tracer, GenAI attribute names."""

    def run() -> None:
        with (
            tracer.start_as_current_span(
                "invoke_workflow research", attributes={"gen_ai.operation.name": "invoke_workflow"}
            ),
            tracer.start_as_current_span(
                "invoke_agent researcher",
                attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "researcher"},
            ),
        ):
            with tracer.start_as_current_span(
                "execute_tool web_search",
                attributes={
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": "web_search",
                    "gen_ai.tool.call.id": _fresh(),
                },
            ):
                pass
            with tracer.start_as_current_span(
                f"chat {MODEL}",
                attributes={"gen_ai.operation.name": "chat", "gen_ai.request.model": MODEL},
            ) as span:
                span.set_attributes(
                    {
                        "gen_ai.response.id": _fresh(),
                        "gen_ai.usage.input_tokens": 120,
                        "gen_ai.usage.output_tokens": 40,
                    }
                )

    return run


def plain_sdk() -> tuple[Workflow, Flush, Discard]:
    """The baseline on its own provider: ``BatchSpanProcessor`` and a discarding exporter."""
    sink = Discard()
    provider = TracerProvider(sampler=ALWAYS_ON)
    provider.add_span_processor(BatchSpanProcessor(sink, max_queue_size=100_000, schedule_delay_millis=200))
    return plain_workflow(provider.get_tracer("bench.plain")), lambda: provider.force_flush(10_000), sink


def oa_workflow() -> Workflow:
    """The workflow in the otel-agents API, on whatever pipeline is configured."""
    import otel_agents as oa

    def run() -> None:
        with oa.workflow("research"), oa.agent("researcher"):
            with oa.tool("web_search", arguments=QUERY, call_id=_fresh()) as t:
                t.set_result({"hits": 3})
            with oa.llm(MODEL, provider="openai") as call:
                call.set_response(model=MODEL, response_id=_fresh(), finish_reasons=["stop"])
                call.record_usage(input_tokens=120, output_tokens=40)

    return run


def otel_agents() -> tuple[Workflow, Flush, Discard]:
    """otel-agents as ``configure()`` builds it, with a metric reader collected inside the window."""
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    import otel_agents as oa

    sink = Discard()
    telemetry = oa.configure(
        exporter="none",
        span_exporters=[sink],
        logs=False,
        metric_readers=[InMemoryMetricReader()],
        max_queue_size=100_000,
        schedule_delay=0.2,
    )
    # force_flush collects the metrics last: the span-derived metrics are recorded inside the window.
    return oa_workflow(), lambda: telemetry.force_flush(10), sink


def traceloop() -> tuple[Workflow, Flush, Discard]:
    """OpenLLMetry: ``Traceloop.init`` with a discarding exporter and its decorators."""
    from opentelemetry import trace
    from traceloop.sdk import Traceloop
    from traceloop.sdk.decorators import agent, tool, workflow

    sink = Discard()
    Traceloop.init(app_name="bench", exporter=sink, telemetry_enabled=False, disable_batch=False)
    llm_call = _traceloop_llm()

    @tool(name="web_search")
    def web_search(q: str, limit: int) -> dict[str, int]:
        return {"hits": 3}

    @agent(name="researcher")
    def researcher() -> None:
        web_search(**QUERY)
        llm_call()

    @workflow(name="research")
    def run() -> None:
        researcher()

    provider: Any = trace.get_tracer_provider()
    return run, lambda: provider.force_flush(10_000), sink


def _traceloop_llm() -> Workflow:
    from traceloop.sdk.tracing.manual import LLMMessage, LLMUsage, track_llm_call

    def call() -> None:
        with track_llm_call(vendor="openai", type="chat") as span:
            span.report_request(model=MODEL, messages=[LLMMessage(role="user", content="acme?")])
            span.report_response(MODEL, ["three hits"])
            span.report_usage(
                LLMUsage(
                    prompt_tokens=120,
                    completion_tokens=40,
                    total_tokens=160,
                    cache_creation_input_tokens=0,
                    cache_read_input_tokens=0,
                )
            )
            span._span.set_attribute("gen_ai.response.id", _fresh())

    return call


def openinference() -> tuple[Workflow, Flush, Discard]:
    """OpenInference: its tracer provider's OITracer, span kinds and attribute helpers."""
    from openinference.instrumentation import TracerProvider as OITracerProvider
    from openinference.instrumentation import get_llm_attributes, get_tool_attributes
    from openinference.semconv.trace import ToolCallAttributes

    sink = Discard()
    provider = OITracerProvider()
    provider.add_span_processor(BatchSpanProcessor(sink, max_queue_size=100_000, schedule_delay_millis=200))
    tracer = provider.get_tracer("bench.openinference")

    def run() -> None:
        with tracer.start_as_current_span("research", openinference_span_kind="chain") as wf:
            wf.set_input("acme")
            with tracer.start_as_current_span("researcher", openinference_span_kind="agent") as ag:
                ag.set_input("acme")
                with tracer.start_as_current_span(
                    "web_search",
                    openinference_span_kind="tool",
                    attributes=get_tool_attributes(name="web_search", parameters=QUERY),
                ) as tl:
                    tl.set_input(QUERY)
                    tl.set_attribute(ToolCallAttributes.TOOL_CALL_ID, _fresh())
                    tl.set_output({"hits": 3})
                with tracer.start_as_current_span("chat", openinference_span_kind="llm") as llm:
                    llm.set_attributes(
                        get_llm_attributes(
                            provider="openai",
                            model_name=MODEL,
                            token_count={"prompt": 120, "completion": 40, "total": 160},
                        )
                    )
                    llm.set_attribute("llm.response.id", _fresh())
                ag.set_output("three hits")
            wf.set_output("three hits")

    return run, lambda: provider.force_flush(10_000), sink


def langfuse() -> tuple[Workflow, Flush, Discard]:
    """Langfuse (OTel-based SDK): observations by type, exporting to a discarding exporter."""
    from langfuse import Langfuse
    from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider

    sink = Discard()
    client = Langfuse(
        public_key="pk-lf-bench",
        secret_key="sk-lf-bench",
        base_url="http://127.0.0.1:9",
        tracer_provider=SdkTracerProvider(),
        span_exporter=sink,
        flush_interval=0.2,
    )

    def run() -> None:
        with client.start_as_current_observation(name="research", as_type="chain", input="acme") as wf:
            with client.start_as_current_observation(name="researcher", as_type="agent", input="acme") as ag:
                with client.start_as_current_observation(
                    name="web_search", as_type="tool", input=QUERY, metadata={"call_id": _fresh()}
                ) as tl:
                    tl.update(output={"hits": 3})
                with client.start_as_current_observation(
                    name="chat", as_type="generation", model=MODEL, input="acme?"
                ) as gen:
                    gen.update(
                        output="three hits",
                        usage_details={"input": 120, "output": 40},
                        metadata={"response_id": _fresh()},
                    )
                ag.update(output="three hits")
            wf.update(output="three hits")

    return run, client.flush, sink


def logfire() -> tuple[Workflow, Flush, Discard]:
    """Logfire: ``logfire.span`` with nothing sent to its cloud, spans to a discarding exporter."""
    import logfire as lf

    sink = Discard()
    lf.configure(
        send_to_logfire=False,
        console=False,
        service_name="bench",
        additional_span_processors=[
            BatchSpanProcessor(sink, max_queue_size=100_000, schedule_delay_millis=200)
        ],
    )

    def run() -> None:
        with lf.span("workflow {name}", name="research"), lf.span("agent {agent}", agent="researcher"):
            with lf.span("tool {tool}", tool="web_search", arguments=QUERY, call_id=_fresh()) as tl:
                tl.set_attribute("result", {"hits": 3})
            with lf.span(
                "chat {model}",
                model=MODEL,
                **{"gen_ai.operation.name": "chat", "gen_ai.request.model": MODEL},
            ) as llm:
                llm.set_attributes(
                    {
                        "gen_ai.response.id": _fresh(),
                        "gen_ai.usage.input_tokens": 120,
                        "gen_ai.usage.output_tokens": 40,
                    }
                )

    return run, lambda: lf.force_flush(10_000), sink


SYSTEMS: dict[str, tuple[Callable[[], tuple[Workflow, Flush, Discard]], str]] = {
    "otel-agents": (otel_agents, "otel-agents"),
    "traceloop": (traceloop, "traceloop-sdk"),
    "openinference": (openinference, "openinference-instrumentation"),
    "langfuse": (langfuse, "langfuse"),
    "logfire": (logfire, "logfire"),
}


def per_workflow_us(run: Workflow, flush: Flush, n: int) -> float:
    """Microseconds per workflow over ``n`` workflows, the flush of what they queued included."""
    gc.collect()
    start = time.perf_counter()
    for _ in range(n):
        run()
    flush()
    return (time.perf_counter() - start) / n * 1e6


def _quiet_network() -> None:
    """Dummy keys and every vendor's cloud export and phone-home off, before any import."""
    for key, value in {
        "TRACELOOP_TELEMETRY": "false",
        "TRACELOOP_METRICS_ENABLED": "false",
        "TRACELOOP_LOGGING_ENABLED": "false",
        "TRACELOOP_API_KEY": "bench-dummy",
        "TRACELOOP_BASE_URL": "http://127.0.0.1:9",
        "LANGFUSE_HOST": "http://127.0.0.1:9",
        "LANGFUSE_BASE_URL": "http://127.0.0.1:9",
        "LOGFIRE_SEND_TO_LOGFIRE": "false",
        "LOGFIRE_CONSOLE": "false",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9",
        "OTEL_TRACES_EXPORTER": "none",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_AGENTS_HOME": os.environ.get("OTEL_AGENTS_HOME", "/tmp/otel-agents-bench-peers"),
    }.items():
        os.environ.setdefault(key, value)


_BLOCKED: list[str] = []


def _loopback_only() -> None:
    """Refuse, and count, every name lookup and connection that would leave the machine."""
    real_getaddrinfo, real_connect, real_connect_ex = (
        socket.getaddrinfo,
        socket.socket.connect,
        socket.socket.connect_ex,
    )

    def is_local(host: object) -> bool:
        if host in (None, "localhost", b"localhost"):
            return True
        try:
            return ipaddress.ip_address(host.decode() if isinstance(host, bytes) else str(host)).is_loopback
        except ValueError:
            return False

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_local(host):
            _BLOCKED.append(f"lookup {host}")
            raise socket.gaierror(socket.EAI_NONAME, "bench: loopback only")
        return real_getaddrinfo(host, *args, **kwargs)

    def check(address: Any) -> None:
        if isinstance(address, tuple) and not is_local(address[0]):
            _BLOCKED.append(f"connect {address[0]}")
            raise ConnectionRefusedError("bench: loopback only")

    def connect(self: socket.socket, address: Any) -> None:
        check(address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(address)
        return real_connect_ex(self, address)

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--system", choices=sorted(SYSTEMS), required=True)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--workflows", type=int, default=300, help="workflows per round and side")
    args = parser.parse_args(argv)
    _quiet_network()
    _loopback_only()
    build, dist = SYSTEMS[args.system]
    base_run, base_flush, base_sink = plain_sdk()
    run, flush, sink = build()
    for _ in range(max(args.workflows // 10, 5)):  # warm-up: imports, caches, first-call paths
        base_run()
        run()
    base_flush()
    flush()
    base_sink.count = sink.count = 0
    base_us, sys_us, ratios = [], [], []
    for _ in range(args.rounds):
        b = per_workflow_us(base_run, base_flush, args.workflows)
        s = per_workflow_us(run, flush, args.workflows)
        base_us.append(b)
        sys_us.append(s)
        ratios.append(s / b)
    done = args.rounds * args.workflows
    result = {
        "system": args.system,
        "version": metadata.version(dist),
        "sdk_version": metadata.version("opentelemetry-sdk"),
        "python": sys.version.split()[0],
        "rounds": args.rounds,
        "workflows": args.workflows,
        "plain_us": statistics.median(base_us),
        "system_us": statistics.median(sys_us),
        "ratio": statistics.median(ratios),
        "plain_spans_per_workflow": base_sink.count / done,
        "spans_per_workflow": sink.count / done,
        "blocked_network": sorted(set(_BLOCKED)),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
