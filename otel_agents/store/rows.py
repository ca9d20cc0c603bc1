"""Turn SDK spans into the rows of the spans, runs and events tables."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

import orjson

from otel_agents import semconv
from otel_agents.store.otlp_json import span_id_hex, trace_id_hex
from otel_agents.store.rollup import Accumulator, classify
from otel_agents.store.values import dumps, dumps_attributes, plain, safe_str

SPAN_COLUMNS: Final = (
    "trace_id, span_id, parent_span_id, name, kind, start_ns, end_ns, duration_ns, status_code,"
    " status_message, service, resource_id, scope_name, scope_version, operation, agent, tool,"
    " model, provider, input_tokens, output_tokens, cost_usd, error_type, run_id, session_id,"
    " user_id, attributes, links, trace_state, flags"
)
INSERT_SPAN: Final = f"INSERT INTO spans ({SPAN_COLUMNS}) VALUES ({', '.join('?' * 30)})"  # noqa: S608
RUN_COLUMNS: Final = (
    "trace_id, span_id, kind, name, status, start_ns, end_ns, duration_ns, input_tokens,"
    " output_tokens, cost_usd, error_type, error_message, run_id, session_id, user_id, service,"
    " items_discovered, items_succeeded, items_failed, input_summary, output_summary, metrics,"
    " metadata"
)
INSERT_RUN: Final = f"INSERT INTO runs ({RUN_COLUMNS}) VALUES ({', '.join('?' * 24)})"  # noqa: S608
INSERT_EVENT: Final = (
    "INSERT INTO events (trace_id, span_id, time_ns, name, attributes) VALUES (?, ?, ?, ?, ?)"
)
_STATUS_NAMES: Final = {0: "ok", 1: "ok", 2: "error"}
# Module-level names for the keys read from every span: a global lookup beats a module attribute.
_OPERATION: Final = semconv.GEN_AI_OPERATION_NAME
_AGENT: Final = semconv.GEN_AI_AGENT_NAME
_TOOL: Final = semconv.GEN_AI_TOOL_NAME
_MODEL: Final = semconv.GEN_AI_REQUEST_MODEL
_PROVIDER: Final = semconv.GEN_AI_PROVIDER_NAME
_WORKFLOW: Final = semconv.GEN_AI_WORKFLOW_NAME
_TOKENS_IN: Final = semconv.GEN_AI_USAGE_INPUT_TOKENS
_TOKENS_OUT: Final = semconv.GEN_AI_USAGE_OUTPUT_TOKENS
_COST: Final = semconv.COST_USD
_ERROR_TYPE: Final = semconv.ERROR_TYPE
_RUN_ID: Final = semconv.RUN_ID
_SESSION_ID: Final = semconv.SESSION_ID
_USER_ID: Final = semconv.USER_ID
_RUN_KIND: Final = semconv.RUN_KIND


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**63 else None
    if isinstance(value, float) and math.isfinite(value) and abs(value) < 2**63:
        return int(value)
    return None


def _float(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        f = float(value)
        return f if math.isfinite(f) else None
    return None


def _s(value: object) -> str | None:
    # The common cases (absent, a short str) without a call to _str.
    if value is None:
        return None
    if value.__class__ is str and len(value) < 4096:
        return value
    return _str(value)


def _i(value: object) -> int | None:
    if value.__class__ is int and -(2**63) <= value < 2**63:
        return value
    return _int(value)


def _str(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) and len(value) < 4096 else safe_str(value)[:4096]


class BatchRows:
    """The rows one exported batch adds: spans, runs, events and stats increments."""

    def __init__(self) -> None:
        self.spans: list[tuple[object, ...]] = []
        self.runs: list[tuple[object, ...]] = []
        self.events: list[tuple[object, ...]] = []
        self.stats = Accumulator()

    def add_span(
        self,
        span: Any,
        attrs: Mapping[str, Any],
        service: str | None,
        resource_id: int | None,
        encoded: Mapping[str, Any] | None = None,
    ) -> None:
        """Add the rows for one SDK ``ReadableSpan`` whose attributes are ``attrs``.

        ``encoded`` (its :func:`span_json`, when already built) saves formatting the ids twice.
        """
        ctx = span.get_span_context()
        if encoded is not None:
            trace_id, span_id = encoded["traceId"], encoded["spanId"]
            parent_id = encoded.get("parentSpanId")
        else:
            trace_id, span_id = trace_id_hex(ctx.trace_id), span_id_hex(ctx.span_id)
            parent_id = None if span.parent is None else span_id_hex(span.parent.span_id)
        get = attrs.get
        start = span.start_time or 0
        end = span.end_time or start
        duration = max(end - start, 0)
        status = span.status
        code = status.status_code._value_
        message = _s(status.description)
        operation = _s(get(_OPERATION))
        agent = _s(get(_AGENT))
        tool = _s(get(_TOOL))
        model = _s(get(_MODEL))
        tokens_in = _i(get(_TOKENS_IN))
        tokens_out = _i(get(_TOKENS_OUT))
        cost = _float(get(_COST))
        error_type = _s(get(_ERROR_TYPE))
        run_id = _s(get(_RUN_ID))
        session_id = _s(get(_SESSION_ID))
        user_id = _s(get(_USER_ID))
        parent = span.parent
        scope = span.instrumentation_scope
        links = None
        if span.links:
            links = dumps(
                [
                    {
                        "trace_id": trace_id_hex(link.context.trace_id),
                        "span_id": span_id_hex(link.context.span_id),
                        "attributes": plain(dict(link.attributes or {})),
                    }
                    for link in span.links
                ]
            ).decode()
        self.spans.append(
            (
                trace_id,
                span_id,
                parent_id,
                span.name,
                span.kind._value_,
                start,
                end,
                duration,
                code,
                message,
                service,
                resource_id,
                scope.name if scope is not None else None,
                scope.version if scope is not None else None,
                operation,
                agent,
                tool,
                model,
                _s(get(_PROVIDER)),
                tokens_in,
                tokens_out,
                cost,
                error_type,
                run_id,
                session_id,
                user_id,
                dumps_attributes(attrs),
                links,
                ctx.trace_state.to_header() if ctx.trace_state else None,
                ctx.trace_flags,
            )
        )
        events = span.events
        for event in events:
            self.events.append(
                (
                    trace_id,
                    span_id,
                    event.timestamp,
                    _str(event.name),
                    dumps_attributes(event.attributes),
                )
            )
        workflow = _s(get(_WORKFLOW))
        kind_name = classify(operation, workflow, agent, tool, model)
        if kind_name is not None:
            self.stats.add_span(kind_name, start, duration, code, tokens_in, tokens_out, cost)
        run_kind = get(_RUN_KIND)
        if run_kind is None and operation == semconv.OP_INVOKE_WORKFLOW:
            run_kind = semconv.RUN_KIND_WORKFLOW
        elif run_kind is None and operation == semconv.OP_INVOKE_AGENT and parent is None:
            run_kind = semconv.RUN_KIND_AGENT
        if run_kind is not None:
            explicit = _str(get(semconv.RUN_STATUS))
            metadata = {
                k[len(semconv.RUN_METADATA_PREFIX) :]: plain(v)
                for k, v in attrs.items()
                if isinstance(k, str) and k.startswith(semconv.RUN_METADATA_PREFIX)
            }
            metrics = get(semconv.RUN_METRICS)
            self.runs.append(
                (
                    trace_id,
                    span_id,
                    _str(run_kind),
                    (workflow if run_kind == semconv.RUN_KIND_WORKFLOW else agent) or span.name,
                    explicit or _STATUS_NAMES.get(code, "ok"),
                    start,
                    end,
                    duration,
                    tokens_in,
                    tokens_out,
                    cost,
                    error_type,
                    message,
                    run_id,
                    session_id,
                    user_id,
                    service,
                    _int(get(semconv.RUN_ITEMS_DISCOVERED)),
                    _int(get(semconv.RUN_ITEMS_SUCCEEDED)),
                    _int(get(semconv.RUN_ITEMS_FAILED)),
                    _str(get(semconv.RUN_INPUT_SUMMARY)),
                    _str(get(semconv.RUN_OUTPUT_SUMMARY)),
                    _json_text(metrics),
                    dumps(metadata).decode() if metadata else None,
                )
            )


def _json_text(value: object) -> str | None:
    """Custom run metrics arrive as a JSON string (attributes are flat); keep valid JSON only."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return dumps(plain(orjson.loads(value))).decode()
        except orjson.JSONDecodeError:
            return dumps(safe_str(value)).decode()
    return dumps(plain(value)).decode()
