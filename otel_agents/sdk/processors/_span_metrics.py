"""Metrics derived from ended GenAI spans: durations, tokens, calls, errors, routing edges and cost."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any, Final

from opentelemetry import context as otel_context
from opentelemetry.metrics import CallbackOptions, Counter, Meter, Observation
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import Status, StatusCode

from otel_agents.api import _counters as stats
from otel_agents.api import _semconv as semconv
from otel_agents.api._guard import never_raise
from otel_agents.sdk.processors._normalise import upstream_client_metrics
from otel_agents.sdk.processors._snapshot import span_attributes

# The bucket boundaries semantic-conventions-genai advises, per metric (docs/gen-ai/*.md).
DURATION_BUCKETS: Final = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip
AGENT_DURATION_BUCKETS: Final = (
    0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 102.4, 204.8, 409.6,
)  # fmt: skip
WORKFLOW_DURATION_BUCKETS: Final = (1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200)
_BUCKETS: Final = {
    semconv.OP_INVOKE_WORKFLOW: WORKFLOW_DURATION_BUCKETS,
    semconv.OP_INVOKE_AGENT: AGENT_DURATION_BUCKETS,
    semconv.OP_EXECUTE_TOOL: DURATION_BUCKETS,
}
TOKEN_BUCKETS: Final = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip

# Only these span attributes become metric labels: all are low-cardinality by construction.
_LABELS: Final = {
    semconv.OP_INVOKE_WORKFLOW: (semconv.GEN_AI_WORKFLOW_NAME,),
    semconv.OP_INVOKE_AGENT: (semconv.GEN_AI_AGENT_NAME,),
    semconv.OP_EXECUTE_TOOL: (semconv.GEN_AI_TOOL_NAME, semconv.GEN_AI_AGENT_NAME),
    semconv.OP_PLAN: (semconv.GEN_AI_AGENT_NAME,),
}
_LLM_LABELS: Final = (
    semconv.GEN_AI_PROVIDER_NAME,
    semconv.GEN_AI_REQUEST_MODEL,
    semconv.GEN_AI_RESPONSE_MODEL,
    semconv.SERVER_ADDRESS,
    semconv.SERVER_PORT,
    semconv.GEN_AI_DATA_SOURCE_ID,
    semconv.GEN_AI_AGENT_NAME,
)
# Counted, but not a client operation: no gen_ai.client.operation.duration for these.
_NO_DURATION: Final = frozenset({semconv.OP_PLAN})
_WANTED: Final[tuple[str, ...]] = (
    semconv.GEN_AI_OPERATION_NAME,
    semconv.GEN_AI_WORKFLOW_NAME,
    semconv.GEN_AI_AGENT_NAME,
    semconv.GEN_AI_TOOL_NAME,
    semconv.GEN_AI_PROVIDER_NAME,
    semconv.GEN_AI_REQUEST_MODEL,
    semconv.GEN_AI_USAGE_INPUT_TOKENS,
    semconv.GEN_AI_USAGE_OUTPUT_TOKENS,
    semconv.COST_USD,
    semconv.ERROR_TYPE,
    semconv.ROUTE_SOURCE,
    semconv.ROUTE_TARGET,
    semconv.DUPLICATE_OF,
    semconv.GEN_AI_RESPONSE_MODEL,
    semconv.SERVER_ADDRESS,
    semconv.SERVER_PORT,
    semconv.GEN_AI_DATA_SOURCE_ID,
    semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
    semconv.LEGACY_ROUTE_SOURCE,
    semconv.LEGACY_ROUTE_TARGET,
)
_DURATION_METRIC: Final = {
    semconv.OP_INVOKE_WORKFLOW: semconv.METRIC_WORKFLOW_DURATION,
    semconv.OP_INVOKE_AGENT: semconv.METRIC_AGENT_DURATION,
    semconv.OP_EXECUTE_TOOL: semconv.METRIC_TOOL_DURATION,
}

# One pending record: the span's values for ``_WANTED`` (None if absent), start and end ns, status,
# and whether the span's library records gen_ai.client.token.usage and .operation.duration itself.
_Pending = tuple[tuple[Any, ...], int | None, int | None, Status, tuple[bool, bool]]
_OURS: Final = (False, False)


_Labels = tuple[tuple[str, Any], ...]
_OVERFLOW: Final[_Labels] = ((semconv.METRIC_OVERFLOW, True),)


class _Cardinality:
    """Caps distinct label sets per metric; the rest share one overflow label set."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.seen: dict[str, set[tuple[tuple[str, Any], ...]]] = {}

    def labels(self, metric: str, labels: _Labels) -> _Labels:
        seen = self.seen.setdefault(metric, set())
        if labels in seen:
            return labels
        if len(seen) < self.limit:
            seen.add(labels)
            return labels
        stats.count_drop("metrics.cardinality_overflow")
        return _OVERFLOW


class SpanMetricsProcessor(SpanProcessor):
    """On end, queue a compact record; at collection time, record it into OTel instruments."""

    NEEDS_ON_START = False

    def __init__(
        self, meter: Meter, *, max_pending: int = 65536, max_series: int = 1000, drain_at: int = 16384
    ) -> None:
        self._pending: deque[_Pending] = deque()
        self._max_pending = max_pending
        # About 300 bytes a record: a minute at 1,000 spans/s waiting for collection held 18 MiB.
        # Not sooner: recording on the chain's thread while the app makes spans costs more per
        # span than in one go at collection (4,096 took the tool span from 1.8x to 2.3x all in).
        self._drain_at = drain_at
        self._lock = threading.Lock()
        self._cardinality = _Cardinality(max_series)
        self._durations = {
            op: meter.create_histogram(name, unit="s", explicit_bucket_boundaries_advisory=_BUCKETS[op])
            for op, name in _DURATION_METRIC.items()
        }
        self._first_chunk = meter.create_histogram(
            semconv.METRIC_CLIENT_TIME_TO_FIRST_CHUNK,
            unit="s",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self._client_duration = meter.create_histogram(
            semconv.METRIC_CLIENT_OPERATION_DURATION,
            unit="s",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self._tokens = meter.create_histogram(
            semconv.METRIC_CLIENT_TOKEN_USAGE,
            unit="{token}",
            explicit_bucket_boundaries_advisory=TOKEN_BUCKETS,
        )
        self._calls = meter.create_counter(semconv.METRIC_CALLS, unit="{call}")
        self._errors = meter.create_counter(semconv.METRIC_ERRORS, unit="{error}")
        self._routes = meter.create_counter(semconv.METRIC_ROUTE_DECISIONS, unit="{decision}")
        self._cost = meter.create_counter(semconv.METRIC_COST, unit="USD")
        # Observable callbacks run before each collection: the moment to drain the queue.
        meter.create_observable_counter(
            semconv.METRIC_DROPPED, callbacks=[self._observe_drops], unit="{record}"
        )
        meter.create_observable_counter(
            semconv.METRIC_INTERNAL_ERRORS, callbacks=[self._observe_errors], unit="{error}"
        )
        meter.create_observable_counter(
            semconv.METRIC_REDACTIONS, callbacks=[self._observe_redactions], unit="{value}"
        )

    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        return None

    @never_raise("processor.metrics.on_end")
    def on_end(self, span: ReadableSpan) -> None:
        self.note(span)

    def note(self, span: ReadableSpan) -> None:
        """Queue what the metrics need from ``span``; unguarded: callers guard it."""
        attrs = span_attributes(span)
        if (
            semconv.GEN_AI_OPERATION_NAME not in attrs
            and semconv.ROUTE_SOURCE not in attrs
            and semconv.LEGACY_ROUTE_SOURCE not in attrs
        ):
            return
        if len(self._pending) >= self._max_pending:
            stats.count_drop("metrics.pending_full")
            return
        # Only the few values metrics use, fetched in C; labels are built at collection time.
        values = tuple(map(attrs.get, _WANTED))
        scope = span.instrumentation_scope
        name = scope.name if scope is not None else None
        upstream = _OURS if name == semconv.SCOPE_NAME else upstream_client_metrics(name)
        self._pending.append((values, span.start_time, span.end_time, span.status, upstream))

    def drain_if_many(self) -> None:
        """Record the queued spans now if there are many (the chain's thread calls it after a batch)."""
        if len(self._pending) >= self._drain_at:
            self.drain()

    def drain(self) -> int:
        """Record every queued span into the instruments; returns how many were recorded."""
        # Each SDK record costs ~10 us: counter increments are summed per series first and added
        # once per series; only histogram values must go in one by one.
        sums: dict[tuple[Counter, _Labels], float] = {}
        with self._lock:
            n = 0
            while True:
                try:
                    record = self._pending.popleft()
                except IndexError:
                    break
                with never_raise("processor.metrics.record"):
                    self._record(record, sums)
                n += 1
            for (counter, labels), total in sums.items():
                with never_raise("processor.metrics.record"):
                    counter.add(total, dict(labels))
        return n

    def _record(self, record: _Pending, sums: dict[tuple[Counter, _Labels], float]) -> None:
        def add(counter: Counter, metric: str, labels: _Labels, value: float = 1) -> None:
            key = (counter, self._cardinality.labels(metric, labels))
            sums[key] = sums.get(key, 0) + value

        values, start_ns, end_ns, span_status, (upstream_tokens, upstream_duration) = record
        duration_ns = (end_ns or 0) - (start_ns or 0)
        status = span_status.status_code
        attrs = {k: v for k, v in zip(_WANTED, values, strict=True) if v is not None}
        if semconv.DUPLICATE_OF in attrs:
            # Another span describes the same model call and is counted instead.
            return
        op = attrs.get(semconv.GEN_AI_OPERATION_NAME)
        if semconv.ROUTE_SOURCE in attrs or semconv.LEGACY_ROUTE_SOURCE in attrs:
            # A route span, or a framework's hand-off (a tool span the normaliser gave an edge).
            edge = (
                (
                    semconv.ROUTE_SOURCE,
                    str(attrs.get(semconv.ROUTE_SOURCE, attrs.get(semconv.LEGACY_ROUTE_SOURCE))),
                ),
                (
                    semconv.ROUTE_TARGET,
                    str(attrs.get(semconv.ROUTE_TARGET, attrs.get(semconv.LEGACY_ROUTE_TARGET, ""))),
                ),
            )
            add(self._routes, semconv.METRIC_ROUTE_DECISIONS, edge)
        if op is None:
            return
        op = str(op)
        labels = tuple((k, attrs[k]) for k in _LABELS.get(op, _LLM_LABELS) if k in attrs)
        error = str(attrs.get(semconv.ERROR_TYPE, "_OTHER")) if status is StatusCode.ERROR else None
        duration = max(duration_ns, 0) / 1e9
        tokens_in = _int(attrs.get(semconv.GEN_AI_USAGE_INPUT_TOKENS))
        tokens_out = _int(attrs.get(semconv.GEN_AI_USAGE_OUTPUT_TOKENS))
        cost = _float(attrs.get(semconv.COST_USD))
        base = ((semconv.GEN_AI_OPERATION_NAME, op), *labels)
        with_error = (*base, (semconv.ERROR_TYPE, error)) if error is not None else base

        def card(metric: str, labels: _Labels) -> dict[str, Any]:
            return dict(self._cardinality.labels(metric, labels))

        histogram = self._durations.get(op)
        if histogram is not None:
            histogram.record(duration, card(op, with_error))
            # A tool's own cost counts where it was spent; workflows and agents only roll it up.
            if cost and op == semconv.OP_EXECUTE_TOOL:
                add(self._cost, semconv.METRIC_COST, base, cost)
        elif op not in _NO_DURATION:
            if not upstream_duration:
                self._client_duration.record(duration, card(op, with_error))
            first_chunk = _float(attrs.get(semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK))
            if first_chunk is not None:
                self._first_chunk.record(first_chunk, card(semconv.METRIC_CLIENT_TIME_TO_FIRST_CHUNK, base))
            for token_type, count in (
                (semconv.TOKEN_TYPE_INPUT, tokens_in),
                (semconv.TOKEN_TYPE_OUTPUT, tokens_out),
            ):
                if count and not upstream_tokens:
                    self._tokens.record(
                        count,
                        card(
                            semconv.METRIC_CLIENT_TOKEN_USAGE,
                            (*base, (semconv.GEN_AI_TOKEN_TYPE, token_type)),
                        ),
                    )
            if cost:
                add(self._cost, semconv.METRIC_COST, base, cost)
        add(self._calls, semconv.METRIC_CALLS, base)
        if error is not None:
            add(self._errors, semconv.METRIC_ERRORS, with_error)

    def _observe_drops(self, options: CallbackOptions) -> Iterable[Observation]:
        with never_raise("processor.metrics.drain"):
            self.drain()
        return _observations(stats.drops(), semconv.LABEL_REASON)

    def _observe_errors(self, options: CallbackOptions) -> Iterable[Observation]:
        return _observations(stats.errors(), semconv.LABEL_SITE)

    def _observe_redactions(self, options: CallbackOptions) -> Iterable[Observation]:
        return _observations(stats.redactions(), semconv.LABEL_RULE)

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _observations(counts: Mapping[str, int], label: str) -> list[Observation]:
    return [Observation(n, {label: key}) for key, n in counts.items()]


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
