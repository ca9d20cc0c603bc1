"""Turn SDK spans into the rows of the spans, runs and events tables and their OTLP/JSON form."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

import orjson

from otel_agents import semconv
from otel_agents.store.otlp_json import (
    flags_of,
    key_values_bytes,
    span_id_hex,
    span_json,
    status_json,
    trace_id_hex,
)
from otel_agents.store.rollup import KIND_AGENT, KIND_MODEL, KIND_TOOL, KIND_WORKFLOW, Accumulator
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
_NAME_JSON: dict[str, bytes] = {}
_NAME_CACHE_LIMIT: Final = 4096
# An OTLP/JSON ``Span`` without trace state, events, links or drops (span_json covers the rest);
# the optional parent id and attributes come pre-formatted, keys in span_json's order.
_SPAN_JSON: Final = (
    b'{"traceId":"%032x","spanId":"%016x","name":%b,"kind":%d,"startTimeUnixNano":"%d",'
    b'"endTimeUnixNano":"%d","flags":%d%b%b,"status":%b}'
)
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
_OP_WORKFLOW: Final = semconv.OP_INVOKE_WORKFLOW
_OP_AGENT: Final = semconv.OP_INVOKE_AGENT
_OP_TOOL: Final = semconv.OP_EXECUTE_TOOL
# Longer strings in the filterable columns are truncated (the attributes column keeps them whole).
_MAX_COLUMN: Final = 4096
_I64_MIN: Final = -(2**63)
_I64_MAX: Final = 2**63 - 1


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
    if value.__class__ is str and len(value) < _MAX_COLUMN:
        return value
    return _str(value)


def _str(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) and len(value) < _MAX_COLUMN else safe_str(value)[:_MAX_COLUMN]


class BatchRows:
    """The rows one exported batch adds: spans, runs, events and stats increments."""

    def __init__(self) -> None:
        self.spans: list[tuple[object, ...]] = []
        self.runs: list[tuple[object, ...]] = []
        self.events: list[tuple[object, ...]] = []
        self.stats = Accumulator()

    def add_span(  # noqa: PLR0915 - one pass over the span on purpose: it runs for every span
        self,
        span: Any,
        attrs: Mapping[str, Any],
        service: str | None,
        resource_id: int | None,
    ) -> orjson.Fragment:
        """Add the rows for one SDK ``ReadableSpan`` whose attributes are ``attrs``; its OTLP ``Span``.

        One pass feeds both copies: the ids, times and status are read and formatted once.
        """
        ctx = span.get_span_context()
        trace_id = f"{ctx.trace_id:032x}"
        span_id = f"{ctx.span_id:016x}"
        parent = span.parent
        start_time = span.start_time
        end_time = span.end_time
        start = start_time or 0
        end = end_time or start
        duration = end - start if end > start else 0
        kind = span.kind._value_
        status = span.status
        code = status.status_code._value_
        description = status.description
        name = span.name
        trace_state = ctx.trace_state
        parent_id = None if parent is None else f"{parent.span_id:016x}"
        events = span.events
        links = span.links
        if trace_state or events or links or span.dropped_attributes:
            encoded = orjson.Fragment(dumps(span_json(span, attrs)))
        else:
            # The common span straight to bytes: no dict for orjson to walk again.
            encoded = orjson.Fragment(
                _SPAN_JSON
                % (
                    ctx.trace_id,
                    ctx.span_id,
                    _NAME_JSON.get(name) or _name_json(name),
                    kind + 1,
                    start,
                    end_time or 0,
                    flags_of(parent),
                    b"" if parent is None else b',"parentSpanId":"%016x"' % parent.span_id,
                    b',"attributes":%b' % key_values_bytes(attrs) if attrs else b"",
                    _status_bytes(code, description) if code or description else b"{}",
                )
            )

        get = attrs.get
        # The common case (absent, or a short str) inline; anything else through _str / _int.
        operation = get(_OPERATION)
        if operation is not None and (operation.__class__ is not str or len(operation) >= _MAX_COLUMN):
            operation = _str(operation)
        agent = get(_AGENT)
        if agent is not None and (agent.__class__ is not str or len(agent) >= _MAX_COLUMN):
            agent = _str(agent)
        tool = get(_TOOL)
        if tool is not None and (tool.__class__ is not str or len(tool) >= _MAX_COLUMN):
            tool = _str(tool)
        model = get(_MODEL)
        if model is not None and (model.__class__ is not str or len(model) >= _MAX_COLUMN):
            model = _str(model)
        tokens_in = get(_TOKENS_IN)
        if tokens_in is not None and (
            tokens_in.__class__ is not int or not _I64_MIN <= tokens_in <= _I64_MAX
        ):
            tokens_in = _int(tokens_in)
        tokens_out = get(_TOKENS_OUT)
        if tokens_out is not None and (
            tokens_out.__class__ is not int or not _I64_MIN <= tokens_out <= _I64_MAX
        ):
            tokens_out = _int(tokens_out)
        cost = get(_COST)
        if cost is not None:
            cost = _float(cost)
        run_id = _s(get(_RUN_ID))
        session_id = _s(get(_SESSION_ID))
        user_id = _s(get(_USER_ID))
        error_type = _s(get(_ERROR_TYPE))
        message = None if description is None else _str(description)
        links_text = None
        if links:
            links_text = dumps(
                [
                    {
                        "trace_id": trace_id_hex(link.context.trace_id),
                        "span_id": span_id_hex(link.context.span_id),
                        "attributes": plain(dict(link.attributes or {})),
                    }
                    for link in links
                ]
            ).decode()
        scope = span.instrumentation_scope
        self.spans.append(
            (
                trace_id,
                span_id,
                parent_id,
                name,
                kind,
                start,
                end,
                duration,
                code,
                message,
                service,
                resource_id,
                None if scope is None else scope.name,
                None if scope is None else scope.version,
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
                links_text,
                trace_state.to_header() if trace_state else None,
                ctx.trace_flags,
            )
        )
        for event in events:
            self.events.append(
                (trace_id, span_id, event.timestamp, _str(event.name), dumps_attributes(event.attributes))
            )
        # Which stats row the span counts towards (see rollup.classify), inline: every span asks.
        if operation == _OP_TOOL:
            self.stats.add_span(KIND_TOOL, tool or "?", start, duration, code, tokens_in, tokens_out, cost)
        elif operation == _OP_AGENT:
            self.stats.add_span(KIND_AGENT, agent or "?", start, duration, code, tokens_in, tokens_out, cost)
        elif operation == _OP_WORKFLOW:
            workflow = _s(get(_WORKFLOW))
            self.stats.add_span(
                KIND_WORKFLOW, workflow or "?", start, duration, code, tokens_in, tokens_out, cost
            )
        elif model:
            self.stats.add_span(KIND_MODEL, model, start, duration, code, tokens_in, tokens_out, cost)
        run_kind = get(_RUN_KIND)
        if run_kind is None:
            if operation == _OP_WORKFLOW:
                run_kind = semconv.RUN_KIND_WORKFLOW
            elif operation == _OP_AGENT and parent is None:
                run_kind = semconv.RUN_KIND_AGENT
            else:
                return encoded
        self._add_run(span, attrs, run_kind, agent, code, message, service, self.spans[-1])
        return encoded

    def _add_run(  # noqa: PLR0917 - internal, positional
        self,
        span: Any,
        attrs: Mapping[str, Any],
        run_kind: object,
        agent: str | None,
        code: int,
        message: str | None,
        service: str | None,
        row: tuple[Any, ...],
    ) -> None:
        get = attrs.get
        explicit = _str(get(semconv.RUN_STATUS))
        metadata = {
            k[len(semconv.RUN_METADATA_PREFIX) :]: plain(v)
            for k, v in attrs.items()
            if isinstance(k, str) and k.startswith(semconv.RUN_METADATA_PREFIX)
        }
        workflow = _s(get(_WORKFLOW))
        trace_id, span_id, _, name, _, start, end, duration = row[:8]
        tokens_in, tokens_out, cost, error_type, run_id, session_id, user_id = row[19:26]
        self.runs.append(
            (
                trace_id,
                span_id,
                _str(run_kind),
                (workflow if run_kind == semconv.RUN_KIND_WORKFLOW else agent) or name,
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
                _json_text(get(semconv.RUN_METRICS)),
                dumps(metadata).decode() if metadata else None,
            )
        )


def _name_json(name: str) -> bytes:
    # Span names are few (OpenTelemetry asks for low-cardinality names): encode each once.
    text = dumps(name)
    if len(_NAME_JSON) >= _NAME_CACHE_LIMIT:
        _NAME_JSON.clear()
    _NAME_JSON[name] = text
    return text


def _status_bytes(code: int, description: str | None) -> bytes:
    if description:
        return dumps(status_json(code, description))
    return b'{"code":%d}' % code if code else b"{}"


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
