"""Apply value rewriters (redaction, truncation) to spans, log records and resources; rebuild what changed."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any, Protocol

from opentelemetry.sdk._logs import LogRecordProcessor, ReadWriteLogRecord
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import Link, Status

from otel_agents.api._guard import contained, never_raise
from otel_agents.api._walk import TOO_DEEP, bytes_text, safe_str
from otel_agents.sdk.processors._copy import copied
from otel_agents.sdk.processors._snapshot import attributes_of, span_attributes

# Pseudo-keys so key-aware rewriters can tell these fields apart from attributes.
SPAN_NAME_KEY = "span.name"
STATUS_KEY = "status.description"
EVENT_NAME_KEY = "event.name"
# Attribute keys are text too: a secret pasted into a key is renamed like one in a value. A pair
# (key, value) is only ever remembered once its key was found clean, so the fast paths stay safe.
ATTRIBUTE_KEY = "attribute.key"
BODY_KEY = "log.body"
SEVERITY_KEY = "log.severity_text"
_CACHE_MAX = 16384
_CACHE_VALUE_MAX = 256
_MAX_DEPTH = 8
# The most items a sequence value keeps, when a rewriter that cuts sequences (truncation) runs: the
# SDK bounds each string, not how many a list holds, and every item was walked in Python, on the
# app's thread for a span holding much text (a list of 1M ints: 0.8 s a span, against the SDK's
# own 0.17 s to take it).
MAX_SEQUENCE_ITEMS = 1024
# The most of an object's ``str()`` a log body keeps (truncation then cuts it to its own limit).
OBJECT_TEXT_MAX = 64 * 1024


class Rewriter(Protocol):
    """A plain callable that returns ``value`` itself when nothing needs changing.

    An optional ``count_attribute`` names the span attribute that records how many values it changed.
    """

    def __call__(self, key: str, value: str) -> str: ...


class Unchanged:
    """A bounded memory of (key, value) pairs no rewriter changes: rewriters are pure functions of both."""

    __slots__ = ("pairs",)

    def __init__(self) -> None:
        self.pairs: dict[tuple[str, str], bool] = {}

    def remember(self, key: str, value: str) -> None:
        # Both short: a long key (a secret's or a payload's) would make the memory big in bytes.
        if len(value) <= _CACHE_VALUE_MAX and len(key) <= _CACHE_VALUE_MAX:
            if len(self.pairs) >= _CACHE_MAX:
                self.pairs.clear()
            self.pairs[(key, value)] = True


class RewritePass:
    """Applies every rewriter to string values and counts the changes each one made."""

    __slots__ = ("changes", "done", "rewriters", "unchanged")

    def __init__(self, rewriters: Sequence[Rewriter], unchanged: Unchanged | None = None) -> None:
        self.rewriters = rewriters
        self.changes = [0] * len(rewriters)
        self.unchanged = unchanged if unchanged is not None else Unchanged()
        # (key, text) -> what this pass already made of it (and counted): never rewritten twice.
        self.done: dict[tuple[str, str], str] = {}

    def text(self, key: str, value: str) -> str:
        # A str subclass is read as the plain text it holds: its own methods (a __hash__ or __eq__
        # that matches a remembered value, a strip() that hides text) never decide what is redacted.
        value = _plain(value)
        # Only short values are remembered: a long one is not hashed (1 MiB costs about 1 ms).
        if len(value) <= _CACHE_VALUE_MAX and (key, value) in self.unchanged.pairs:
            return value
        if self.done:
            made = self.done.get((key, value))
            if made is not None:
                return made
        original = value
        for i, rewrite in enumerate(self.rewriters):
            new = rewrite(key, value)
            if new is not value:
                self.changes[i] += 1
                value = new
        if value is original:
            self.unchanged.remember(key, value)
        return value

    def key(self, key: str) -> str:
        """``key`` rewritten by the rewriters that declare ``rewrites_keys`` (redaction): a secret
        pasted into a key goes; truncation and other rewriters leave keys as they are."""
        key = _plain(key)
        original = key
        for i, rewrite in enumerate(self.rewriters):
            if getattr(rewrite, "rewrites_keys", False):
                new = rewrite(ATTRIBUTE_KEY, key)
                if new is not key:
                    self.changes[i] += 1
                    key = new
        if key is original:
            self.unchanged.remember(ATTRIBUTE_KEY, key)
        return key

    def value(self, key: str, value: Any, depth: int = 0) -> Any:
        if isinstance(value, str):
            return self.text(key, value)
        if isinstance(value, (tuple, list, Mapping)) and depth >= _MAX_DEPTH:
            # Never read: what it holds would leave unredacted, so it leaves as a marker instead.
            return self.text(key, TOO_DEEP.format(type(value).__name__))
        if isinstance(value, (tuple, list)) and value:
            cut = len(value) > MAX_SEQUENCE_ITEMS and self._cut_sequence()
            kept = value[:MAX_SEQUENCE_ITEMS] if cut else value
            items = [self.value(key, v, depth + 1) for v in kept]
            if cut or any(new is not old for new, old in zip(items, kept, strict=False)):
                return tuple(items)
        elif isinstance(value, Mapping):
            # Log bodies and extras may nest: {"ctx": {"password": ...}} is checked as "ctx.password".
            nested = self.mapping(value, f"{key}.", depth + 1)
            if nested is not None:
                return nested
        elif isinstance(value, (bytes, bytearray, memoryview)):
            # Redaction reads text: encoded bytes would pass it unread, so only their size leaves.
            return self.text(key, bytes_text(value))
        elif value is not None and not isinstance(value, (bool, int, float, tuple, list)):
            # An object in a log body: exporters send its str(), so that is what is redacted.
            return self.text(key, safe_str(value, OBJECT_TEXT_MAX))
        return value

    def _cut_sequence(self) -> bool:
        """Count a sequence cut to ``MAX_SEQUENCE_ITEMS`` against the rewriter that cuts them; False
        (nothing cut) when none of this pass's rewriters does."""
        for i, rewrite in enumerate(self.rewriters):
            if getattr(rewrite, "cuts_sequences", False):
                self.changes[i] += 1
                return True
        return False

    def mapping(
        self, attrs: Mapping[str, Any] | None, prefix: str = "", depth: int = 0
    ) -> dict[str, Any] | None:
        """A rewritten copy of ``attrs``, or None when nothing changed."""
        if not attrs:
            return None
        out: dict[str, Any] | None = None
        known = self.unchanged.pairs
        for key, value in attrs.items():
            # Inlined fast path: most values are strings seen before, or not strings at all.
            exact_key = key.__class__ is str
            if exact_key and not prefix:
                if type(value) is str and len(value) <= _CACHE_VALUE_MAX and (key, value) in known:
                    continue
                if type(value) is tuple and _known_sequence(known, key, value):
                    continue
            name = key
            if not exact_key or (ATTRIBUTE_KEY, key) not in known:
                name = self.key(key) if isinstance(key, str) else key
            new: Any
            if isinstance(value, str):
                new = self.text(f"{prefix}{name}" if prefix else name, value)
            elif value is None or isinstance(value, (bool, int, float)):
                new = value
            else:
                new = self.value(f"{prefix}{name}" if prefix else name, value, depth)
            if new is not value or name is not key:
                if out is None:
                    out = dict(attrs)
                if name is not key:
                    out.pop(key, None)
                out[name] = new
        return out

    def count_attributes(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for rewrite, n in zip(self.rewriters, self.changes, strict=False):
            key = getattr(rewrite, "count_attribute", None)
            if n and isinstance(key, str):
                counts[key] = counts.get(key, 0) + n
        return counts


def rewrite_span(
    span: ReadableSpan, rewriters: Sequence[Rewriter], unchanged: Unchanged | None = None
) -> ReadableSpan:
    """``span`` itself when no rewriter changes anything, else a rebuilt copy."""
    current = span_attributes(span)
    # The property builds a new tuple on every access: only a span that has events pays for it.
    original_events = span.events if span._events else ()
    run: RewritePass | None = None
    if unchanged is not None and not original_events and not span._links:
        fresh = _unsettled(span, current, unchanged)
        # Every text seen clean before but a few new values (fresh ids): only those are read, and
        # the span is read in full only when one of them changes (by the same pass, which keeps
        # what it made of them: a secret is redacted, and counted, once).
        if fresh is not None:
            if not fresh:
                return span
            run = RewritePass(rewriters, unchanged)
            if _all_clean(fresh, run):
                return span
    if run is None:
        run = RewritePass(rewriters, unchanged)
    name = run.text(SPAN_NAME_KEY, span.name)
    attrs = run.mapping(current)
    events: list[Event] | None = None
    for i, event in enumerate(original_events):
        event_name = run.text(EVENT_NAME_KEY, event.name)
        new_attrs = run.mapping(attributes_of(event.attributes))
        if new_attrs is not None or event_name is not event.name:
            if events is None:
                events = list(original_events)
            events[i] = Event(
                event_name,
                attributes_of(event.attributes) if new_attrs is None else new_attrs,
                event.timestamp,
            )
    links = _rewritten_links(span, run)
    status = span.status
    if status.description:
        description = run.text(STATUS_KEY, status.description)
        if description is not status.description:
            status = Status(status.status_code, description)
    if not any(run.changes):
        return span
    final_attrs = dict(current) if attrs is None else attrs
    final_attrs.update(run.count_attributes())
    return copied(
        span,
        name=name,
        attributes=final_attrs,
        events=original_events if events is None else events,
        links=links,
        status=status,
    )


def rewrite_resource(resource: Resource, rewriters: Sequence[Rewriter]) -> Resource:
    """``resource`` itself when no rewriter changes its attributes, else a copy with them rewritten.

    Every exporter sends the resource with each batch, and what enters it is text we never see
    otherwise: ``OTEL_RESOURCE_ATTRIBUTES``, a detector's ``process.command_args``."""
    run = RewritePass(rewriters)
    attrs = run.mapping(dict(resource.attributes))
    if attrs is None:
        return resource
    return Resource(attrs, resource.schema_url)


def _rewritten_links(span: ReadableSpan, run: RewritePass) -> list[Link] | None:
    """``span``'s links with their attributes rewritten, or None when none changed."""
    if not span._links:
        return None
    original = span.links
    links: list[Link] | None = None
    for i, link in enumerate(original):
        new_attrs = run.mapping(attributes_of(link.attributes))
        if new_attrs is not None:
            if links is None:
                links = list(original)
            links[i] = Link(link.context, new_attrs)
    return links


def _unsettled(
    span: ReadableSpan, attrs: dict[str, Any], unchanged: Unchanged
) -> list[tuple[str, str]] | None:
    """The (key, value) texts of ``span`` not seen before, under keys found clean, when that is all
    that stands between it and no rewriter changing it (empty: nothing); else None."""
    known = unchanged.pairs
    # The fields, not the properties: this runs for every span.
    name = span._name
    if span._status.description or name.__class__ is not str or (SPAN_NAME_KEY, name) not in known:
        return None
    fresh: list[tuple[str, str]] = []
    # Only text is remembered, so a value that is not text is settled by its key alone.
    try:
        for item in attrs.items():
            key, value = item
            if key.__class__ is not str:
                return None  # a str subclass's hash and equality are its own: never trusted
            if value.__class__ is str:
                if item not in known:
                    if (ATTRIBUTE_KEY, key) not in known:
                        return None
                    fresh.append(item)
                continue
            if isinstance(value, str) or (ATTRIBUTE_KEY, key) not in known:
                return None
            if isinstance(value, (tuple, list)) and not _known_sequence(known, key, value):
                return None
    except TypeError:  # an unhashable value, possible in a ReadableSpan built by hand
        return None
    return fresh


def _all_clean(texts: list[tuple[str, str]], run: RewritePass) -> bool:
    """True when no rewriter changes any of ``texts`` (each clean one is remembered as such); the
    first that changes is kept in ``run.done``."""
    for key, value in texts:
        made = run.text(key, value)
        if made is not value:
            run.done[(key, value)] = made
            return False
    return True


def _known_sequence(known: dict[tuple[str, str], bool], key: str, value: tuple[Any, ...] | list[Any]) -> bool:
    """True for a sequence value under a clean key whose every text item was found clean under it
    (an LLM span's finish reasons): the rewriters leave its other items as they are."""
    if (ATTRIBUTE_KEY, key) not in known or len(value) > MAX_SEQUENCE_ITEMS:
        return False
    for item in value:
        if type(item) is str:
            if len(item) > _CACHE_VALUE_MAX or (key, item) not in known:
                return False
        elif isinstance(item, (str, tuple, list, Mapping)):
            return False
    return True


def _plain(text: str) -> str:
    """``text`` as a plain str: itself when it is one, else a copy of the characters it holds."""
    return text if text.__class__ is str else str.__str__(text)


def rewrite_or_strip(
    span: ReadableSpan, rewriters: Sequence[Rewriter], unchanged: Unchanged | None = None
) -> ReadableSpan:
    """``rewrite_span``, or, when a rewriter fails, the span with no text left (reported, never raised)."""
    try:
        return rewrite_span(span, rewriters, unchanged)
    except Exception as exc:
        if not contained("processor.rewrite.on_end", exc):
            raise
        return _stripped(span)


def _stripped(span: ReadableSpan) -> ReadableSpan:
    """What to export when rewriting failed: no text at all, so no secret can slip through."""
    attrs = {k: v for k, v in (span.attributes or {}).items() if not isinstance(v, (str, tuple))}
    return copied(
        span,
        name=span.name.split(" ", 1)[0],
        attributes=attrs,
        events=(),
        links=[Link(link.context) for link in span.links],
        status=Status(span.status.status_code),
    )


def _body(run: RewritePass, body: Any) -> Any:
    """A log record's body rewritten, whatever its shape: text, a mapping, a list, bytes (only their
    size is kept), or an object that exporters would send as its ``str()`` (redacted here first)."""
    if isinstance(body, Mapping):
        return run.mapping(body) or body
    return run.value(BODY_KEY, body)


def _replace_attributes(record: Any, new_attrs: dict[str, Any] | None) -> None:
    """Give ``record`` the rewritten attributes: in place, so the SDK's limits and drop count stay,
    with every renamed key's old spelling removed (it is the secret), else as a new mapping."""
    if new_attrs is None:
        return
    attrs = record.attributes
    if not isinstance(attrs, MutableMapping):
        record.attributes = new_attrs
        return
    # Stale keys first: a full bounded mapping would otherwise evict a kept key for a renamed one.
    for key in [k for k in attrs if k not in new_attrs]:
        del attrs[key]
    for key, value in new_attrs.items():
        if key not in attrs or value is not attrs[key]:
            attrs[key] = value


class RewriteLogProcessor(LogRecordProcessor):
    """Rewrites each log record's body and attributes in place, then hands it on."""

    def __init__(self, next_processor: LogRecordProcessor, rewriters: Sequence[Rewriter]) -> None:
        self._next = next_processor
        self._rewriters = tuple(rewriters)
        self._unchanged = Unchanged()

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        record = log_record.log_record
        try:
            run = RewritePass(self._rewriters, self._unchanged)
            record.body = _body(run, record.body)
            # The logs API's event name (SDK 1.35+) is text the caller chose, like a span event's.
            event_name = getattr(record, "event_name", None)
            if isinstance(event_name, str):
                record.event_name = run.text(EVENT_NAME_KEY, event_name)
            # Free text too: the logs API takes any severity text, and exporters send it as it is.
            if isinstance(record.severity_text, str):
                record.severity_text = run.text(SEVERITY_KEY, record.severity_text)
            _replace_attributes(record, run.mapping(record.attributes))
        except Exception as exc:
            if not contained("processor.rewrite_log.on_emit", exc):
                raise
            record.body = "[log record dropped: redaction failed]"
            record.attributes = {}
            record.severity_text = None
            if getattr(record, "event_name", None) is not None:
                record.event_name = None
        with never_raise("processor.rewrite_log.next"):
            self._next.on_emit(log_record)

    @never_raise("processor.rewrite_log.shutdown")
    def shutdown(self) -> None:
        self._next.shutdown()

    @never_raise("processor.rewrite_log.force_flush", default=False)
    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._next.force_flush(timeout_millis)
