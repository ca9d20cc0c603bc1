"""Turn SDK spans into the rows of the spans, runs and events tables and their OTLP/JSON form."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

import orjson

from otel_agents.api import _semconv as semconv
from otel_agents.store._otlp_json import (
    HAS_IS_REMOTE,
    flags_of,
    key_values_bytes,
    span_id_hex,
    span_json,
    status_json,
    trace_id_hex,
)
from otel_agents.store._rollup import (
    HOUR_NS,
    KIND_AGENT,
    KIND_MODEL,
    KIND_TOOL,
    KIND_WORKFLOW,
    Accumulator,
    unpriced_calls,
)
from otel_agents.store._values import dumps, dumps_attributes, plain, safe_str

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
_NAME_CACHE_CHARS: Final = 256
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
_UNPRICED: Final = semconv.COST_UNKNOWN_CALLS
_DUPLICATE: Final = semconv.DUPLICATE_OF
_ERROR_TYPE: Final = semconv.ERROR_TYPE
_RUN_ID: Final = semconv.RUN_ID
_SESSION_ID: Final = semconv.SESSION_ID
_USER_ID: Final = semconv.USER_ID
_RUN_KIND: Final = semconv.RUN_KIND
_OP_WORKFLOW: Final = semconv.OP_INVOKE_WORKFLOW
_OP_AGENT: Final = semconv.OP_INVOKE_AGENT
_OP_TOOL: Final = semconv.OP_EXECUTE_TOOL
# Longer strings in the filterable columns are truncated (the attributes column keeps them whole).
MAX_COLUMN: Final = 4096
_I64_MIN: Final = -(2**63)
_I64_MAX: Final = 2**63 - 1
_STR_TYPES: Final = frozenset((str, type(None)))
_INT_TYPES: Final = frozenset((int, type(None)))
_FLOAT_TYPES: Final = frozenset((float, type(None)))


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
    if value.__class__ is str and len(value) < MAX_COLUMN:
        return value
    return _str(value)


def _str(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) and len(value) < MAX_COLUMN else safe_str(value)[:MAX_COLUMN]


class BatchRows:
    """The rows one exported batch adds: spans, runs, events and stats increments."""

    def __init__(self) -> None:
        self.spans: list[tuple[object, ...]] = []
        self.runs: list[tuple[object, ...]] = []
        self.events: list[tuple[object, ...]] = []
        self.stats = Accumulator()

    def add_span(
        self, span: Any, attrs: Mapping[str, Any], service: str | None, resource_id: int | None
    ) -> orjson.Fragment:
        """Add the rows for one SDK ``ReadableSpan`` whose attributes are ``attrs``; its OTLP ``Span``."""
        return self.add_spans([span], [attrs], [service], [resource_id])[0]

    def add_spans(
        self,
        spans: Sequence[Any],
        attrs: Sequence[Mapping[str, Any]],
        services: Sequence[str | None],
        resource_ids: Sequence[int | None],
    ) -> list[orjson.Fragment]:
        """Add the rows for SDK ``ReadableSpan``s whose attributes are ``attrs``; their OTLP ``Span``s.

        Column by column rather than span by span: list comprehensions, ``map`` and ``zip`` do per
        span in C what a loop body does in bytecode (measured ~10% faster on whole batches). Each
        value is read and formatted once for both copies, the table rows and the line file. On an
        exception nothing has been added (call again one span at a time to isolate a bad one).
        """
        ctxs = [s.get_span_context() for s in spans]
        parents = [s.parent for s in spans]
        starts = [s.start_time or 0 for s in spans]
        end_times = [s.end_time for s in spans]
        ends = [e or s for e, s in zip(end_times, starts, strict=True)]
        durations = [e - s if e > s else 0 for s, e in zip(starts, ends, strict=True)]
        kinds = [s.kind._value_ for s in spans]
        statuses = [s.status for s in spans]
        codes = [st.status_code._value_ for st in statuses]
        descriptions = [st.description for st in statuses]
        names = [s.name for s in spans]
        events = [s.events for s in spans]
        links = [s.links for s in spans]
        trace_states = [c.trace_state for c in ctxs]
        scopes = [s.instrumentation_scope for s in spans]
        trace_ids = [f"{c.trace_id:032x}" for c in ctxs]
        span_ids = [f"{c.span_id:016x}" for c in ctxs]
        operations = _strs([a.get(_OPERATION) for a in attrs])
        agents = _strs([a.get(_AGENT) for a in attrs])
        tools = _strs([a.get(_TOOL) for a in attrs])
        models = _strs([a.get(_MODEL) for a in attrs])
        tokens_in = _ints([a.get(_TOKENS_IN) for a in attrs])
        tokens_out = _ints([a.get(_TOKENS_OUT) for a in attrs])
        costs = _floats([a.get(_COST) for a in attrs])
        messages = _strs(descriptions)
        rows = list(
            zip(
                trace_ids,
                span_ids,
                [None if p is None else f"{p.span_id:016x}" for p in parents],
                names,
                kinds,
                starts,
                ends,
                durations,
                codes,
                messages,
                services,
                resource_ids,
                [None if s is None else s.name for s in scopes],
                [None if s is None else s.version for s in scopes],
                operations,
                agents,
                tools,
                models,
                _strs([a.get(_PROVIDER) for a in attrs]),
                tokens_in,
                tokens_out,
                costs,
                _strs([a.get(_ERROR_TYPE) for a in attrs]),
                _strs([a.get(_RUN_ID) for a in attrs]),
                _strs([a.get(_SESSION_ID) for a in attrs]),
                _strs([a.get(_USER_ID) for a in attrs]),
                list(map(dumps_attributes, attrs)),
                [_links_text(ls) if ls else None for ls in links],
                [t.to_header() if t else None for t in trace_states],
                [c.trace_flags for c in ctxs],
                strict=True,
            )
        )
        # Spans without trace state, events, links or drops (nearly all) straight to bytes with
        # one template, its parts built column by column; span_json covers the rest.
        names_json = _NAME_JSON.get
        encoded = list(
            map(
                orjson.Fragment,
                map(
                    _SPAN_JSON.__mod__,
                    zip(
                        [c.trace_id for c in ctxs],
                        [c.span_id for c in ctxs],
                        [names_json(n) or _name_json(n) for n in names],
                        [k + 1 for k in kinds],
                        starts,
                        [e or 0 for e in end_times],
                        [HAS_IS_REMOTE if p is None else flags_of(p) for p in parents],
                        [b"" if p is None else b',"parentSpanId":"%016x"' % p.span_id for p in parents],
                        [b',"attributes":%b' % key_values_bytes(a) if a else b"" for a in attrs],
                        [
                            _status_bytes(code, d) if code or d else b"{}"
                            for code, d in zip(codes, descriptions, strict=True)
                        ],
                        strict=True,
                    ),
                ),
            )
        )
        special = [
            i
            for i, (span, trace_state, span_events, span_links) in enumerate(
                zip(spans, trace_states, events, links, strict=True)
            )
            if trace_state or span_events or span_links or span.dropped_attributes
        ]
        for i in special:
            encoded[i] = orjson.Fragment(dumps(span_json(spans[i], attrs[i])))
        event_rows = [
            (row[0], row[1], e.timestamp, _str(e.name), dumps_attributes(e.attributes))
            for row, span_events in zip(rows, events, strict=True)
            for e in span_events
        ]
        # A run: an explicit run kind, else an invoke_workflow span or a parentless invoke_agent span.
        run_kinds = [
            run_kind
            if run_kind is not None
            else semconv.RUN_KIND_WORKFLOW
            if operation == _OP_WORKFLOW
            else semconv.RUN_KIND_AGENT
            if operation == _OP_AGENT and parent is None
            else None
            for run_kind, operation, parent in zip(
                [a.get(_RUN_KIND) for a in attrs], operations, parents, strict=True
            )
        ]
        run_rows = [
            _run_row(attrs[i], run_kind, agents[i], codes[i], messages[i], services[i], rows[i])
            for i, run_kind in enumerate(run_kinds)
            if run_kind is not None
        ]
        # Which stats row each span counts towards (see rollup.classify), with its hour; a span
        # marked as describing a model call another span counts counts nowhere.
        stat_keys = [
            None
            if _DUPLICATE in a
            else (KIND_TOOL, tool or "?", start // HOUR_NS)
            if operation == _OP_TOOL
            else (KIND_AGENT, agent or "?", start // HOUR_NS)
            if operation == _OP_AGENT
            else (KIND_WORKFLOW, _s(a.get(_WORKFLOW)) or "?", start // HOUR_NS)
            if operation == _OP_WORKFLOW
            else (KIND_MODEL, model, start // HOUR_NS)
            if model
            else None
            for operation, agent, tool, model, a, start in zip(
                operations, agents, tools, models, attrs, starts, strict=True
            )
        ]
        # Calls without a known price: one per unpriced model call, an agent's or workflow's own count.
        unpriced = [
            unpriced_calls(None if key is None else key[0], cost, _int(a.get(_UNPRICED)))
            for key, cost, a in zip(stat_keys, costs, attrs, strict=True)
        ]
        # Stats last: everything that could raise has run, so a failure leaves the batch untouched.
        self.stats.add_spans(stat_keys, durations, codes, tokens_in, tokens_out, costs, unpriced)
        self.spans.extend(rows)
        self.events.extend(event_rows)
        self.runs.extend(run_rows)
        return encoded


def _run_row(  # noqa: PLR0917 - internal, positional
    attrs: Mapping[str, Any],
    run_kind: object,
    agent: str | None,
    code: int,
    message: str | None,
    service: str | None,
    row: tuple[Any, ...],
) -> tuple[object, ...]:
    """The runs row of a run span, from its attributes and its spans row."""
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
    return (
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
        _str(get(semconv.RUN_ERROR_SUMMARY)) or message,
        run_id,
        session_id,
        user_id,
        service,
        _int(get(semconv.RUN_ITEMS_DISCOVERED)),
        _int(get(semconv.RUN_ITEMS_SUCCEEDED)),
        _int(get(semconv.RUN_ITEMS_FAILED)),
        # The opt-in preview is the human-readable form; the type/size summary is the fallback.
        _str(get(semconv.RUN_INPUT_PREVIEW) or get(semconv.RUN_INPUT_SUMMARY)),
        _str(get(semconv.RUN_OUTPUT_PREVIEW) or get(semconv.RUN_OUTPUT_SUMMARY)),
        _json_text(get(semconv.RUN_METRICS)),
        dumps(metadata).decode() if metadata else None,
    )


def _links_text(links: Sequence[Any]) -> str:
    return dumps(
        [
            {
                "trace_id": trace_id_hex(link.context.trace_id),
                "span_id": span_id_hex(link.context.span_id),
                "attributes": plain(dict(link.attributes or {})),
            }
            for link in links
        ]
    ).decode()


def _strs(values: list[Any]) -> list[Any]:
    """``values`` through :func:`_s`; as they are when all are None or short str (checked in C)."""
    if set(map(type, values)) <= _STR_TYPES and max(map(len, filter(None, values)), default=0) < MAX_COLUMN:
        return values
    return [_s(v) for v in values]


def _ints(values: list[Any]) -> list[Any]:
    """``values`` through :func:`_int` (None stays None); as they are when all fit int64."""
    if set(map(type, values)) <= _INT_TYPES and max(map(abs, filter(None, values)), default=0) <= _I64_MAX:
        return values
    return [None if v is None else _int(v) for v in values]


def _floats(values: list[Any]) -> list[Any]:
    """``values`` through :func:`_float` (None stays None); as they are when all are finite floats."""
    if set(map(type, values)) <= _FLOAT_TYPES and math.isfinite(sum(filter(None, values))):
        return values
    return [None if v is None else _float(v) for v in values]


def _name_json(name: str) -> bytes:
    # Span names are few (OpenTelemetry asks for low-cardinality names): encode each once. Only
    # short ones are kept, so the cache stays small in bytes whatever names arrive.
    text = dumps(name)
    if len(name) <= _NAME_CACHE_CHARS:
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
