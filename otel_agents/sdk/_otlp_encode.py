"""OTLP/protobuf bytes of an ExportTraceServiceRequest, written straight from ended spans."""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import Any, Final

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind

# The stock encoder builds a protobuf object per span, attribute and value and then serialises
# them: most of an export's CPU. These are the same messages' wire bytes, built directly (field
# numbers from opentelemetry-proto's trace.proto and common.proto), with the encoded attribute
# pairs that recur from span to span (operation names, models, run ids) kept and reused.

_INT64_MIN: Final = -(1 << 63)
_INT64_MAX: Final = (1 << 63) - 1
_UINT64: Final = 1 << 64
_SMALL: Final = tuple(bytes((i,)) for i in range(128))
_DOUBLE: Final = struct.Struct("<d").pack
_FIXED64: Final = struct.Struct("<Q").pack
_FIXED32: Final = struct.Struct("<I").pack
# SpanKind.INTERNAL..CONSUMER are 0..4 in the API and 1..5 on the wire.
_KIND: Final = {kind: _SMALL[kind.value + 1] for kind in SpanKind}
# Span.flags: the parent's is_remote is known (bit 8), and true (bit 9).
_FLAGS_LOCAL: Final = b"\x85\x01" + _FIXED32(0x100)
_FLAGS_REMOTE: Final = b"\x85\x01" + _FIXED32(0x300)
_LINK_FLAGS_LOCAL: Final = b"\x35" + _FIXED32(0x100)
_LINK_FLAGS_REMOTE: Final = b"\x35" + _FIXED32(0x300)
# An empty Status, as the stock encoder always sets one.
_STATUS_UNSET: Final = b"\x7a\x00"
# Encoded span attribute pairs kept for reuse; emptied when full (values like call ids never recur).
# Only short values are kept (the ones that recur: names, models, ids), so that the memory is
# bounded in bytes too: at most about 4,096 x (256 + the pair's two strings) bytes.
_PAIRS_MAX: Final = 4096
_PAIR_CHARS: Final = 256


def _varint(n: int) -> bytes:
    if n < 0x80:
        return _SMALL[n]
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _field(tag: bytes, body: bytes) -> bytes:
    """A length-delimited field: its tag byte(s), the body's length, the body."""
    n = len(body)
    return tag + (_SMALL[n] if n < 0x80 else _varint(n)) + body


def _text(value: str) -> bytes:
    try:
        return value.encode()
    except UnicodeEncodeError:
        # A lone surrogate: a receiver rejects the whole request over one invalid UTF-8 string.
        return value.encode("utf-8", "replace")


def _any_value(value: Any) -> bytes | None:
    """An AnyValue's body; None for a value OTLP cannot carry (the stock encoder skips it too)."""
    kind = value.__class__
    if kind is str:
        return _field(b"\x0a", _text(value))
    if kind is bool:
        return b"\x10\x01" if value else b"\x10\x00"
    if kind is int:
        if not _INT64_MIN <= value <= _INT64_MAX:
            return None
        return b"\x18" + _varint(value % _UINT64 if value < 0 else value)
    if kind is float:
        return b"\x21" + _DOUBLE(value)
    return _other_value(value)


def _other_value(value: Any) -> bytes | None:
    if value is None:
        return b""
    if isinstance(value, bool):
        return b"\x10\x01" if value else b"\x10\x00"
    if isinstance(value, str):
        return _field(b"\x0a", _text(value))
    if isinstance(value, int):
        return _any_value(int(value))
    if isinstance(value, float):
        return b"\x21" + _DOUBLE(value)
    if isinstance(value, bytes):
        return _field(b"\x3a", value)
    if isinstance(value, Sequence):
        items = []
        for item in value:
            body = _any_value(item)
            if body is None:
                return None
            items.append(_field(b"\x0a", body))
        return _field(b"\x2a", b"".join(items))
    if isinstance(value, Mapping):
        return _field(b"\x32", b"".join(_key_values(b"\x0a", value)))
    return None


def _key_value(tag: bytes, key: str, value: Any) -> bytes | None:
    body = _any_value(value)
    if body is None:
        return None
    return _field(tag, _field(b"\x0a", _text(str(key))) + _field(b"\x12", body))


def _key_values(tag: bytes, attributes: Mapping[str, Any] | None) -> list[bytes]:
    """Each attribute as a KeyValue field ``tag``; the ones OTLP cannot carry left out."""
    if not attributes:
        return []
    out = []
    for key, value in attributes.items():
        field = _key_value(tag, key, value)
        if field is not None:
            out.append(field)
    return out


class TraceRequestEncoder:
    """Encodes batches of ended spans as one ExportTraceServiceRequest's bytes; one per exporter
    (it keeps the encoded resources, scopes and recurring attribute pairs)."""

    def __init__(self) -> None:
        # Keyed by id, with the object kept so the id is not reused while it is here.
        self._resources: dict[int, tuple[Any, tuple[bytes, bytes]]] = {}
        self._scopes: dict[int, tuple[Any, bytes]] = {}
        self._pairs: dict[tuple[str, Any], bytes] = {}

    def encode(self, spans: Sequence[ReadableSpan]) -> bytes:
        """The request's bytes: spans grouped by resource, then by instrumentation scope (equal
        ones together, as the stock encoder groups them)."""
        groups: dict[tuple[bytes, bytes], dict[bytes, list[bytes]]] = {}
        resource_of, scope_of, span_of = self._resource, self._scope, self._span
        for span in spans:
            resource = resource_of(span.resource)
            by_scope = groups.get(resource)
            if by_scope is None:
                by_scope = groups[resource] = {}
            scope = scope_of(span.instrumentation_scope)
            encoded = by_scope.get(scope)
            if encoded is None:
                encoded = by_scope[scope] = []
            encoded.append(span_of(span))
        out = []
        for (resource_field, schema), scopes in groups.items():
            parts = [resource_field]
            for scope_field, encoded_spans in scopes.items():
                parts.append(_field(b"\x12", scope_field + b"".join(encoded_spans)))
            parts.append(schema)
            out.append(_field(b"\x0a", b"".join(parts)))
        return b"".join(out)

    def _resource(self, resource: Any) -> tuple[bytes, bytes]:
        """The ResourceSpans.resource field, and its schema_url field (empty if none)."""
        known = self._resources.get(id(resource))
        if known is not None and known[0] is resource:
            return known[1]
        encoded = (
            _field(b"\x0a", b"".join(_key_values(b"\x0a", resource.attributes))),
            _field(b"\x1a", _text(resource.schema_url)) if resource.schema_url else b"",
        )
        if len(self._resources) >= 64:
            self._resources.clear()
        self._resources[id(resource)] = (resource, encoded)
        return encoded

    def _scope(self, scope: Any) -> bytes:
        """The ScopeSpans.scope field, and its schema_url (field 3 of ScopeSpans) if any."""
        known = self._scopes.get(id(scope))
        if known is not None and known[0] is scope:
            return known[1]
        if scope is None:
            encoded = b"\x0a\x00"
        else:
            body = b""
            if scope.name:
                body += _field(b"\x0a", _text(scope.name))
            if scope.version:
                body += _field(b"\x12", _text(scope.version))
            body += b"".join(_key_values(b"\x1a", scope.attributes))
            encoded = _field(b"\x0a", body)
            if scope.schema_url:
                encoded += _field(b"\x1a", _text(scope.schema_url))
        if len(self._scopes) >= 1024:
            self._scopes.clear()
        self._scopes[id(scope)] = (scope, encoded)
        return encoded

    def _span(self, span: ReadableSpan) -> bytes:
        """One ScopeSpans.spans field."""
        context = span.context
        assert context is not None
        parts = [
            b"\x0a\x10"
            + context.trace_id.to_bytes(16, "big")
            + b"\x12\x08"
            + context.span_id.to_bytes(8, "big")
        ]
        state = context.trace_state
        if state:
            parts.append(_field(b"\x1a", _text(",".join(f"{k}={v}" for k, v in state.items()))))
        parent = span.parent
        if parent is not None:
            parts.append(b"\x22\x08" + parent.span_id.to_bytes(8, "big"))
        parts.append(_field(b"\x2a", _text(span.name)))
        parts.append(b"\x30" + _KIND[span.kind])
        if span.start_time:
            parts.append(b"\x39" + _FIXED64(span.start_time))
        if span.end_time:
            parts.append(b"\x41" + _FIXED64(span.end_time))
        attributes: Any = span._attributes
        if attributes:
            # The SDK's BoundedAttributes keeps a plain dict: read it in place (the span has ended).
            items = getattr(attributes, "_dict", attributes)
            self._attributes(items, parts)
        if span.dropped_attributes:
            parts.append(b"\x50" + _varint(span.dropped_attributes))
        if span._events:
            for event in span.events:
                parts.append(_field(b"\x5a", _event(event)))
        if span.dropped_events:
            parts.append(b"\x60" + _varint(span.dropped_events))
        if span._links:
            for link in span.links:
                parts.append(_field(b"\x6a", _link(link)))
        if span.dropped_links:
            parts.append(b"\x70" + _varint(span.dropped_links))
        parts.append(_status(span.status))
        parts.append(_FLAGS_REMOTE if parent is not None and parent.is_remote else _FLAGS_LOCAL)
        return _field(b"\x12", b"".join(parts))

    def _attributes(self, items: Mapping[str, Any], parts: list[bytes]) -> None:
        pairs = self._pairs
        append = parts.append
        for key, value in items.items():
            if value.__class__ is str and len(value) <= _PAIR_CHARS:
                pair = (key, value)
                field = pairs.get(pair)
                if field is None:
                    field = _key_value(b"\x4a", key, value)
                    assert field is not None  # a string is always carried
                    if len(pairs) >= _PAIRS_MAX:
                        pairs.clear()
                    pairs[pair] = field
                append(field)
            else:
                field = _key_value(b"\x4a", key, value)
                if field is not None:
                    append(field)


def _event(event: Any) -> bytes:
    parts = []
    if event.timestamp:
        parts.append(b"\x09" + _FIXED64(event.timestamp))
    if event.name:
        parts.append(_field(b"\x12", _text(event.name)))
    parts.extend(_key_values(b"\x1a", event.attributes))
    if event.dropped_attributes:
        parts.append(b"\x20" + _varint(event.dropped_attributes))
    return b"".join(parts)


def _link(link: Any) -> bytes:
    context = link.context
    parts = [
        b"\x0a\x10" + context.trace_id.to_bytes(16, "big"),
        b"\x12\x08" + context.span_id.to_bytes(8, "big"),
    ]
    parts.extend(_key_values(b"\x22", link.attributes))
    if link.dropped_attributes:
        parts.append(b"\x28" + _varint(link.dropped_attributes))
    parts.append(_LINK_FLAGS_REMOTE if context.is_remote else _LINK_FLAGS_LOCAL)
    return b"".join(parts)


def _status(status: Any) -> bytes:
    if status is None:
        return b""
    body = b""
    if status.description:
        body += _field(b"\x12", _text(status.description))
    code = status.status_code.value
    if code:
        body += b"\x18" + _SMALL[code]
    return _field(b"\x7a", body) if body else _STATUS_UNSET
