"""Writing spans with chosen names, times and attributes into a store through the real exporter."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode, set_span_in_context

from otel_agents.api import _semconv as semconv
from otel_agents.store import open_store

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Spec:
    """One span to write: name, start (ns), duration (ns), attributes, error, children."""

    name: str
    start_ns: int
    duration_ns: int = 1_000_000
    attributes: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    children: list[Spec] = field(default_factory=list)
    events: list[str] = field(default_factory=list)


def tool(name: str, start_ns: int, **kw: Any) -> Spec:
    """An execute_tool span for tool ``name``."""
    attrs = {semconv.GEN_AI_OPERATION_NAME: semconv.OP_EXECUTE_TOOL, semconv.GEN_AI_TOOL_NAME: name}
    return Spec(f"execute_tool {name}", start_ns, attributes={**attrs, **kw.pop("attributes", {})}, **kw)


def write(home: Path, specs: Iterable[Spec], service: str = "cli-tests") -> None:
    """Export ``specs`` (each a root with its children) into the store at ``home``."""
    store = open_store(home)
    tp = TracerProvider(resource=Resource.create({semconv.SERVICE_NAME: service}))
    tp.add_span_processor(SimpleSpanProcessor(store.span_exporter))
    tracer = tp.get_tracer("cli-tests")

    def emit(spec: Spec, parent: Any) -> None:
        ctx = set_span_in_context(parent) if parent is not None else None
        span = tracer.start_span(
            spec.name, context=ctx, attributes=dict(spec.attributes), start_time=spec.start_ns
        )
        for event in spec.events:
            span.add_event(event)
        for child in spec.children:
            emit(child, span)
        if spec.error is not None:
            span.set_status(Status(StatusCode.ERROR, spec.error))
        span.end(end_time=spec.start_ns + spec.duration_ns)

    for spec in specs:
        emit(spec, None)
    tp.shutdown()
    store.close()


def record_with_api(home: Path, code: str) -> None:
    """Run ``code`` (with ``oa`` = otel_agents, configured into ``home``) in a fresh interpreter."""
    script = (
        "import otel_agents as oa, pathlib\n"
        f"t = oa.configure(service_name='cli-tests', home=pathlib.Path({str(home)!r}), exporter='store')\n"
        f"{code}\n"
        "t.shutdown()\n"
    )
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "OTEL_AGENTS_RAISE_INTERNAL_ERRORS": "1"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
