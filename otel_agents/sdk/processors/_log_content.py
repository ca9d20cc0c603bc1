"""GenAI content removed from log records (other libraries' events) where it may not be kept."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from opentelemetry.sdk._logs import LogRecordProcessor, ReadWriteLogRecord

from otel_agents.api import _semconv as semconv
from otel_agents.api._guard import contained, never_raise
from otel_agents.sdk.processors._normalise import GENERIC_CONTENT, is_content_key

_MAX_DEPTH = 8


class ContentLogProcessor(LogRecordProcessor):
    """Removes content keys from every log record and content from GenAI events' bodies, then hands
    the record on.

    The libraries read their own switches (util-genai's ``event_only``, ``TRACELOOP_TRACE_CONTENT``),
    which an argument ``capture_content=False`` does not reach: without this, their events would
    carry the prompts the spans no longer do.
    """

    def __init__(self, next_processor: LogRecordProcessor) -> None:
        self._next = next_processor

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        record = log_record.log_record
        try:
            _strip(record)
        except Exception as exc:
            if not contained("processor.log_content.on_emit", exc):
                raise
            record.body = "[log record dropped: content removal failed]"
            record.attributes = {}
        with never_raise("processor.log_content.next"):
            self._next.on_emit(log_record)

    @never_raise("processor.log_content.shutdown")
    def shutdown(self) -> None:
        self._next.shutdown()

    @never_raise("processor.log_content.force_flush", default=False)
    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._next.force_flush(timeout_millis)


def _strip(record: Any) -> None:
    attrs = record.attributes
    name = getattr(record, "event_name", None)
    if not isinstance(name, str) and attrs:
        name = attrs.get(semconv.EVENT_NAME)
    event = isinstance(name, str) and name.startswith(semconv.GEN_AI_EVENT_PREFIX)
    if attrs:
        # A generic name (``events``, ``final_result``) is content only on a GenAI event, as it is
        # only on a GenAI span.
        content = [
            k
            for k in attrs
            if isinstance(k, str) and is_content_key(k) and (event or k not in GENERIC_CONTENT)
        ]
        if content:
            _remove(record, content)
    if event and record.body is not None:
        record.body = _without_content(record.body, 0, False)


def _remove(record: Any, keys: list[str]) -> None:
    """Remove ``keys`` from the record's attributes: in place (the SDK's limits and drop count stay),
    else in a new mapping."""
    attrs = record.attributes
    if isinstance(attrs, MutableMapping):
        try:
            for key in keys:
                del attrs[key]
        except TypeError:  # an immutable mapping: rebuilt below
            pass
        else:
            return
    gone = frozenset(keys)
    record.attributes = {k: v for k, v in attrs.items() if k not in gone}


def _without_content(value: Any, depth: int, in_mapping: bool) -> Any:
    """``value`` without content: every content key of a mapping at any depth removed, and text that
    is no mapping's field (the body itself, a list's items) dropped."""
    if isinstance(value, str | bytes):
        return value if in_mapping else None
    if depth >= _MAX_DEPTH:
        return None
    if isinstance(value, Mapping):
        return {
            k: _without_content(v, depth + 1, True)
            for k, v in value.items()
            if not (isinstance(k, str) and k in semconv.EVENT_BODY_CONTENT_KEYS)
        }
    if isinstance(value, list | tuple):
        return [_without_content(v, depth + 1, False) for v in value]
    return value
