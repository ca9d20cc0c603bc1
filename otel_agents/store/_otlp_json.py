"""Encode SDK spans, log records and metrics as OTLP/JSON export requests (the otlpjsonfile format)."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import orjson
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.metrics.export import (
    ExponentialHistogram,
    Gauge,
    Histogram,
    Metric,
    MetricsData,
    Sum,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext

from otel_agents.api._walk import INT64_MAX, INT64_MIN, Renderer, non_finite_text, walk
from otel_agents.store._values import LIMITS, MAX_STRING_CHARS, cap, dumps, safe_str

# The OTLP/JSON mapping: lowerCamelCase field names, trace and span ids as lowercase hex, enums as
# integers, 64-bit integers as decimal strings, default-valued fields omitted.
Json = dict[str, Any]

# Mirrors the SDK's OTLP encoder: SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK and ..._IS_REMOTE_MASK.
HAS_IS_REMOTE: Final = 0x100
_IS_REMOTE: Final = 0x200


def trace_id_hex(trace_id: int) -> str:
    """A trace id as 32 lowercase hex digits."""
    return f"{trace_id:032x}"


def span_id_hex(span_id: int) -> str:
    """A span id as 16 lowercase hex digits."""
    return f"{span_id:016x}"


def _double(value: float) -> Json:
    if math.isfinite(value):
        return {"doubleValue": value}
    # proto3 JSON spells non-finite doubles as strings.
    return {"doubleValue": non_finite_text(value)}


_ANY: Renderer[Json] = Renderer(
    text=lambda text: {"stringValue": cap(text)},
    integer=lambda value: {"intValue": str(value)},
    double=_double,
    boolean=lambda value: {"boolValue": value},
    null=dict,
    mapping=lambda pairs: {"kvlistValue": {"values": [{"key": k, "value": v} for k, v in pairs]}},
    sequence=lambda items: {"arrayValue": {"values": items}},
)


def any_value(value: object) -> Json:
    """An OTLP ``AnyValue`` for any Python value, rendered by the one walk; never raises."""
    return walk(value, _ANY, LIMITS)


def key_values(attributes: Mapping[str, Any] | None) -> list[Json]:
    """OTLP ``KeyValue`` list for an attribute mapping."""
    if not attributes:
        return []
    out: list[Json] = []
    append = out.append
    # A hostile Mapping keeps what was read before it failed.
    with contextlib.suppress(Exception):
        for k, v in attributes.items():
            # Inline the common scalar cases: this loop runs for every attribute of every span.
            t = type(v)
            if t is str and len(v) <= MAX_STRING_CHARS:
                value: Json = {"stringValue": v}
            elif t is int and INT64_MIN <= v <= INT64_MAX:
                value = {"intValue": str(v)}
            elif t is float and math.isfinite(v):
                value = {"doubleValue": v}
            elif t is bool:
                value = {"boolValue": v}
            else:
                value = any_value(v)
            append({"key": k if type(k) is str else safe_str(k), "value": value})
    return out


# key -> value -> encoded KeyValue: two lookups without building a tuple key beat one with.
_KV_CACHE: dict[str, dict[str, bytes]] = {}
_kv_entries = [0]
_KEY_PREFIX: dict[str, bytes] = {}
_CACHE_LIMIT: Final = 8192
_CACHED_VALUE_CHARS: Final = 256


def _prefix(key: str) -> bytes:
    prefix = _KEY_PREFIX.get(key)
    if prefix is None:
        prefix = b'{"key":' + orjson.dumps(key) + b',"value":'
        # Only short keys are kept: the cache is bounded in bytes, not only in entries.
        if len(key) <= _CACHED_VALUE_CHARS:
            if len(_KEY_PREFIX) >= _CACHE_LIMIT:
                _KEY_PREFIX.clear()
            _KEY_PREFIX[key] = prefix
    return prefix


def _string_key_value(key: str, value: str) -> bytes:
    """The encoded KeyValue of a string attribute, cached unless the value is long."""
    kv = _prefix(key) + b'{"stringValue":' + orjson.dumps(cap(value)) + b"}}"
    if len(value) <= _CACHED_VALUE_CHARS and len(key) <= _CACHED_VALUE_CHARS:
        if _kv_entries[0] >= _CACHE_LIMIT:
            _KV_CACHE.clear()
            _kv_entries[0] = 0
        _KV_CACHE.setdefault(key, {})[value] = kv
        _kv_entries[0] += 1
    return kv


def key_values_fragment(attributes: Mapping[str, Any]) -> orjson.Fragment:
    """Like :func:`key_values`, pre-serialised (see :func:`key_values_bytes`)."""
    return orjson.Fragment(key_values_bytes(attributes))


def _key_value(key: str, value: Any) -> bytes:
    """The encoded KeyValue of a non-string attribute."""
    t = value.__class__
    if t is int and INT64_MIN <= value <= INT64_MAX:
        encoded = b'{"intValue":"%d"}' % value
    elif t is float and math.isfinite(value):
        encoded = b'{"doubleValue":' + orjson.dumps(value) + b"}"
    elif t is bool:
        encoded = b'{"boolValue":true}' if value else b'{"boolValue":false}'
    else:
        encoded = orjson.dumps(any_value(value))
    return _prefix(key) + encoded + b"}"


def key_values_bytes(attributes: Mapping[str, Any]) -> bytes:
    """The JSON of :func:`key_values`, built directly: the span hot path, ~2x faster for typical spans.

    Agent spans repeat the same string attributes (operation, agent, model, run ids...), so their
    encoded form is cached; any surprise falls back to :func:`key_values`.
    """
    parts: list[bytes] = []
    append = parts.append
    try:
        for k, v in attributes.items():
            if v.__class__ is str:
                by_value = _KV_CACHE.get(k)
                kv = None if by_value is None else by_value.get(v)
                append(_string_key_value(k, v) if kv is None else kv)
            else:
                append(_key_value(k, v))
    except Exception:  # noqa: BLE001 - odd keys, surrogates, hostile mappings: the careful path
        return dumps(key_values(attributes))
    return b"[%b]" % b",".join(parts)


def resource_json(resource: Resource | None) -> Json:
    """OTLP ``Resource``."""
    if resource is None:
        return {}
    out: Json = {}
    attrs = key_values(resource.attributes)
    if attrs:
        out["attributes"] = attrs
    return out


def scope_json(scope: InstrumentationScope | None) -> Json:
    """OTLP ``InstrumentationScope``."""
    if scope is None:
        return {}
    out: Json = {"name": scope.name}
    if scope.version:
        out["version"] = scope.version
    attrs = key_values(scope.attributes)
    if attrs:
        out["attributes"] = attrs
    return out


def _flags(parent: SpanContext | None) -> int:
    return HAS_IS_REMOTE | (_IS_REMOTE if parent is not None and parent.is_remote else 0)


def span_json(span: ReadableSpan, attributes: Mapping[str, Any] | None = None) -> Json:
    """OTLP ``Span`` for one SDK span (``attributes``: its attributes as a dict, if at hand)."""
    ctx = span.get_span_context()
    assert ctx is not None  # every SDK span has a context; the guard around us handles the rest
    parent = span.parent
    out: Json = {
        "traceId": f"{ctx.trace_id:032x}",
        "spanId": f"{ctx.span_id:016x}",
        "name": span.name,
        # _value_ is the enum's plain attribute; .value goes through a slower descriptor.
        "kind": span.kind._value_ + 1,
        "startTimeUnixNano": str(span.start_time or 0),
        "endTimeUnixNano": str(span.end_time or 0),
        "flags": HAS_IS_REMOTE if parent is None else _flags(parent),
    }
    if ctx.trace_state:
        out["traceState"] = trace_state_text(ctx.trace_state)
    if parent is not None:
        out["parentSpanId"] = f"{parent.span_id:016x}"
    attrs = span.attributes if attributes is None else attributes
    if attrs:
        out["attributes"] = key_values_fragment(attrs)
    add_span_details(span, out, span.events, span.links)
    status = span.status
    out["status"] = status_json(status.status_code._value_, status.description)
    return out


def flags_of(parent: SpanContext | None) -> int:
    """The OTLP ``flags`` of a span or link whose parent (or target) is ``parent``."""
    return HAS_IS_REMOTE if parent is None else _flags(parent)


def trace_state_text(trace_state: Any) -> str:
    """A W3C ``tracestate`` header value."""
    return ",".join(f"{k}={v}" for k, v in trace_state.items())


def add_span_details(span: ReadableSpan, out: Json, events: Sequence[Any], links: Sequence[Any]) -> None:
    """Add ``span``'s dropped counts, events and links (mostly absent) to its OTLP ``Span``."""
    if span.dropped_attributes:
        out["droppedAttributesCount"] = span.dropped_attributes
    # With the SDK's non-zero limits, something dropped implies something kept.
    if events:
        out["events"] = [_event_json(e.name, e.timestamp, e.attributes) for e in events]
        if span.dropped_events:
            out["droppedEventsCount"] = span.dropped_events
    if links:
        out["links"] = [
            _strip(
                {
                    "traceId": trace_id_hex(link.context.trace_id),
                    "spanId": span_id_hex(link.context.span_id),
                    "attributes": key_values(link.attributes),
                    "flags": _flags(link.context),
                }
            )
            for link in links
        ]
        if span.dropped_links:
            out["droppedLinksCount"] = span.dropped_links


def status_json(code: int, description: str | None) -> Json:
    """OTLP ``Status`` (empty when unset)."""
    if description:
        return {"message": safe_str(description), "code": code}
    return {"code": code} if code else {}


def _event_json(name: str, timestamp: int, attributes: Mapping[str, Any] | None) -> Json:
    return _strip(
        {
            "timeUnixNano": str(timestamp),
            "name": safe_str(name),
            "attributes": key_values(attributes),
        }
    )


def _strip(d: Json) -> Json:
    return {k: v for k, v in d.items() if v}


def _group(
    items: Sequence[Any], encoded: Sequence[Any]
) -> list[tuple[Resource | None, list[tuple[InstrumentationScope | None, list[Any]]]]]:
    """``encoded`` grouped by the resource, then the scope, of the matching ``items``."""
    resources = [item.resource for item in items]
    scopes = [item.instrumentation_scope for item in items]
    if len(set(map(id, resources))) <= 1 and len(set(map(id, scopes))) <= 1:
        # The usual batch: one resource, one scope.
        return [(resources[0], [(scopes[0], list(encoded))])] if items else []
    # Keyed by identity: Resource.__hash__ serialises every attribute (~4 us a call), and a
    # process has one resource object, so identity groups exactly as equality would.
    by_id: dict[int, tuple[Resource | None, dict[int, tuple[InstrumentationScope | None, list[Any]]]]] = {}
    last_key: tuple[int, int] | None = None
    group: list[Any] = []
    for resource, scope, enc in zip(resources, scopes, encoded, strict=True):
        key = (id(resource), id(scope))
        if key != last_key:
            by_scope = by_id.setdefault(key[0], (resource, {}))[1]
            group = by_scope.setdefault(key[1], (scope, []))[1]
            last_key = key
        group.append(enc)
    return [(r, list(by_scope.values())) for r, by_scope in by_id.values()]


def traces_request(spans: Sequence[ReadableSpan], encoded: Sequence[Any] | None = None) -> Json:
    """OTLP ``ExportTraceServiceRequest`` for ``spans`` (``encoded``: their span_json, if known).

    An encoded span may also be an ``orjson.Fragment`` of its JSON.
    """
    groups = _group(spans, encoded or [span_json(s) for s in spans])
    return {"resourceSpans": [_resource_entry(r, "scopeSpans", "spans", scopes) for r, scopes in groups]}


def _resource_entry(
    resource: Resource | None, scopes_key: str, items_key: str, scopes: Iterable[tuple[Any, list[Any]]]
) -> Json:
    """One ``resource*`` entry: the resource, then each scope with its spans, records or metrics."""
    return _with_schema(
        {
            "resource": resource_json(resource),
            scopes_key: [
                _with_schema({"scope": scope_json(scope), items_key: items}, scope) for scope, items in scopes
            ],
        },
        resource,
    )


def _with_schema(d: Json, owner: Resource | InstrumentationScope | None) -> Json:
    url = getattr(owner, "schema_url", None)
    if url:
        d["schemaUrl"] = url
    return d


def log_json(record: ReadableLogRecord) -> Json:
    """OTLP ``LogRecord`` for one SDK log record."""
    rec = record.log_record
    out: Json = {}
    if rec.timestamp:
        out["timeUnixNano"] = str(rec.timestamp)
    if rec.observed_timestamp:
        out["observedTimeUnixNano"] = str(rec.observed_timestamp)
    if rec.severity_number is not None and rec.severity_number.value:
        out["severityNumber"] = rec.severity_number.value
    if rec.severity_text:
        out["severityText"] = safe_str(rec.severity_text)
    if rec.body is not None:
        out["body"] = any_value(rec.body)
    attrs = key_values(rec.attributes)
    if attrs:
        out["attributes"] = attrs
    if record.dropped_attributes:
        out["droppedAttributesCount"] = record.dropped_attributes
    if rec.trace_flags:
        out["flags"] = int(rec.trace_flags)
    if rec.trace_id:
        out["traceId"] = trace_id_hex(rec.trace_id)
    if rec.span_id:
        out["spanId"] = span_id_hex(rec.span_id)
    if rec.event_name:
        out["eventName"] = safe_str(rec.event_name)
    return out


def logs_request(records: Sequence[ReadableLogRecord], encoded: Sequence[Json] | None = None) -> Json:
    """OTLP ``ExportLogsServiceRequest`` for ``records`` (``encoded``: their log_json, if known)."""
    groups = _group(records, encoded or [log_json(r) for r in records])
    return {"resourceLogs": [_resource_entry(r, "scopeLogs", "logRecords", scopes) for r, scopes in groups]}


def _number_point(p: Any) -> Json:
    out: Json = {
        "startTimeUnixNano": str(p.start_time_unix_nano or 0),
        "timeUnixNano": str(p.time_unix_nano or 0),
    }
    attrs = key_values(p.attributes)
    if attrs:
        out["attributes"] = attrs
    if isinstance(p.value, int) and not isinstance(p.value, bool):
        out["asInt"] = str(p.value)
    else:
        out["asDouble"] = _finite(p.value)
    return out


def _finite(value: float) -> Any:
    return _double(float(value))["doubleValue"]


def _histogram_point(p: Any) -> Json:
    out: Json = {
        "startTimeUnixNano": str(p.start_time_unix_nano or 0),
        "timeUnixNano": str(p.time_unix_nano or 0),
        "count": str(p.count),
        "sum": _finite(p.sum),
        "bucketCounts": [str(c) for c in p.bucket_counts],
        "explicitBounds": [_finite(b) for b in p.explicit_bounds],
        "min": _finite(p.min),
        "max": _finite(p.max),
    }
    attrs = key_values(p.attributes)
    if attrs:
        out["attributes"] = attrs
    return out


def _exp_histogram_point(p: Any) -> Json:
    out: Json = {
        "startTimeUnixNano": str(p.start_time_unix_nano or 0),
        "timeUnixNano": str(p.time_unix_nano or 0),
        "count": str(p.count),
        "sum": _finite(p.sum),
        "scale": p.scale,
        "zeroCount": str(p.zero_count),
        "positive": {
            "offset": p.positive.offset,
            "bucketCounts": [str(c) for c in p.positive.bucket_counts],
        },
        "negative": {
            "offset": p.negative.offset,
            "bucketCounts": [str(c) for c in p.negative.bucket_counts],
        },
        "min": _finite(p.min),
        "max": _finite(p.max),
    }
    if p.flags:
        out["flags"] = p.flags
    attrs = key_values(p.attributes)
    if attrs:
        out["attributes"] = attrs
    return out


def metric_json(metric: Metric) -> Json:
    """OTLP ``Metric`` for one SDK metric."""
    out: Json = {"name": metric.name}
    if metric.description:
        out["description"] = metric.description
    if metric.unit:
        out["unit"] = metric.unit
    data = metric.data
    if isinstance(data, Sum):
        out["sum"] = {
            "dataPoints": [_number_point(p) for p in data.data_points],
            "aggregationTemporality": int(data.aggregation_temporality),
            "isMonotonic": data.is_monotonic,
        }
    elif isinstance(data, Gauge):
        out["gauge"] = {"dataPoints": [_number_point(p) for p in data.data_points]}
    elif isinstance(data, Histogram):
        out["histogram"] = {
            "dataPoints": [_histogram_point(p) for p in data.data_points],
            "aggregationTemporality": int(data.aggregation_temporality),
        }
    elif isinstance(data, ExponentialHistogram):
        out["exponentialHistogram"] = {
            "dataPoints": [_exp_histogram_point(p) for p in data.data_points],
            "aggregationTemporality": int(data.aggregation_temporality),
        }
    return out


def metrics_request(data: MetricsData) -> Json:
    """OTLP ``ExportMetricsServiceRequest`` for one collection."""
    return {
        "resourceMetrics": [
            _resource_entry(
                rm.resource,
                "scopeMetrics",
                "metrics",
                [(sm.scope, [metric_json(m) for m in sm.metrics]) for sm in rm.scope_metrics],
            )
            for rm in data.resource_metrics
        ]
    }
