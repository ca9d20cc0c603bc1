"""Keep the run-context baggage keys off outgoing requests to hosts outside the allow-list."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from opentelemetry import baggage, propagate, trace
from opentelemetry import context as otel_context
from opentelemetry.propagators.textmap import (
    CarrierT,
    DefaultGetter,
    DefaultSetter,
    Getter,
    Setter,
    TextMapPropagator,
)

from otel_agents.api import _semconv as semconv

# Where HTTP client instrumentations put the destination on their span (new and old conventions).
_HOST_KEYS = (semconv.SERVER_ADDRESS, semconv.NET_PEER_NAME)
_URL_KEYS = (semconv.URL_FULL, semconv.HTTP_URL)


def _host_of(ctx: otel_context.Context | None) -> str | None:
    """The destination host of the client span current in ``ctx`` (injection runs inside it)."""
    span = trace.get_current_span(ctx)
    attrs: Any = getattr(span, "attributes", None)
    if not attrs:
        return None
    for key in _HOST_KEYS:
        value = attrs.get(key)
        if isinstance(value, str) and value:
            return value.lower()
    for key in _URL_KEYS:
        value = attrs.get(key)
        if isinstance(value, str) and value:
            try:
                host = urlsplit(value).hostname
            except ValueError:
                return None
            return host.lower() if host else None
    return None


class RunContextBaggageFilter(TextMapPropagator):
    """Wraps the global propagator: our run-context keys go only to allow-listed hosts.

    Entries are host names, ``*.example.com`` patterns, or ``*`` for every host. Other baggage
    entries pass as they are; spans and the in-process context keep the ids in every case.
    """

    def __init__(self, inner: TextMapPropagator, hosts: Sequence[str]) -> None:
        self.inner = inner
        self.hosts = tuple(h.strip().lower() for h in hosts if h.strip())

    def allowed(self, host: str | None) -> bool:
        if host is None:
            return "*" in self.hosts
        return any(fnmatch.fnmatchcase(host, pattern) for pattern in self.hosts)

    def inject(
        self,
        carrier: CarrierT,
        context: otel_context.Context | None = None,
        setter: Setter[CarrierT] = DefaultSetter(),  # type: ignore[assignment]  # noqa: B008
    ) -> None:
        ctx = context if context is not None else otel_context.get_current()
        entries = baggage.get_all(ctx)
        ours = [key for key in semconv.RUN_CONTEXT_KEYS if key in entries]
        if ours and not self.allowed(_host_of(ctx)):
            for key in ours:
                ctx = baggage.remove_baggage(key, ctx)
        self.inner.inject(carrier, ctx, setter)

    def extract(
        self,
        carrier: CarrierT,
        context: otel_context.Context | None = None,
        getter: Getter[CarrierT] = DefaultGetter(),  # type: ignore[assignment]  # noqa: B008
    ) -> otel_context.Context:
        return self.inner.extract(carrier, context, getter)

    @property
    def fields(self) -> set[str]:
        return self.inner.fields


def install(hosts: Sequence[str]) -> RunContextBaggageFilter:
    """Wrap the global propagator (once; a second call only replaces the allow-list)."""
    current = propagate.get_global_textmap()
    inner = current.inner if isinstance(current, RunContextBaggageFilter) else current
    wrapped = RunContextBaggageFilter(inner, hosts)
    propagate.set_global_textmap(wrapped)
    return wrapped
