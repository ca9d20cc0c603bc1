"""Metrics derived from ended GenAI spans: durations, tokens, calls, errors, routing edges and cost."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any, Final

from opentelemetry import context as otel_context
from opentelemetry.metrics import CallbackOptions, Counter, Meter, Observation
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import SpanKind, StatusCode

from otel_agents.api import _counters as stats
from otel_agents.api import _semconv as semconv
from otel_agents.api._guard import contained, never_raise
from otel_agents.api._threads import Pacer
from otel_agents.sdk._span_histograms import HistogramSpec, Labels, SpanHistograms
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
# The boundaries the HTTP conventions advise for http.server.request.duration.
HTTP_DURATION_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
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
# The values that decide a record's series come first, the measured ones after _SERIES_FIELDS:
# records alike in the first part share every label set, and a drain works them out once.
_WANTED: Final[tuple[str, ...]] = (
    semconv.GEN_AI_OPERATION_NAME,
    semconv.GEN_AI_WORKFLOW_NAME,
    semconv.GEN_AI_AGENT_NAME,
    semconv.GEN_AI_TOOL_NAME,
    semconv.GEN_AI_PROVIDER_NAME,
    semconv.GEN_AI_REQUEST_MODEL,
    semconv.ERROR_TYPE,
    semconv.ROUTE_SOURCE,
    semconv.ROUTE_TARGET,
    semconv.GEN_AI_RESPONSE_MODEL,
    semconv.SERVER_ADDRESS,
    semconv.SERVER_PORT,
    semconv.GEN_AI_DATA_SOURCE_ID,
    semconv.LEGACY_ROUTE_SOURCE,
    semconv.LEGACY_ROUTE_TARGET,
    semconv.DUPLICATE_OF,
    semconv.GEN_AI_USAGE_INPUT_TOKENS,
    semconv.GEN_AI_USAGE_OUTPUT_TOKENS,
    semconv.COST_USD,
    semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
)
_SERIES_FIELDS: Final = _WANTED.index(semconv.DUPLICATE_OF)
# What an HTTP server span whose duration is derived (our Flask hooks', FastAPI's own, see
# derive_http_from) records under, all chosen by the server: the method is "_OTHER" unless HTTP
# defines it, the route is a template.
_HTTP_WANTED: Final[tuple[str, ...]] = (
    semconv.HTTP_REQUEST_METHOD,
    semconv.URL_SCHEME,
    semconv.HTTP_ROUTE,
    semconv.HTTP_RESPONSE_STATUS_CODE,
    semconv.NETWORK_PROTOCOL_VERSION,
    semconv.ERROR_TYPE,
)
# Where _record finds each value it reads in a pending record's values.
_I_OPERATION: Final = _WANTED.index(semconv.GEN_AI_OPERATION_NAME)
_I_INPUT_TOKENS: Final = _WANTED.index(semconv.GEN_AI_USAGE_INPUT_TOKENS)
_I_OUTPUT_TOKENS: Final = _WANTED.index(semconv.GEN_AI_USAGE_OUTPUT_TOKENS)
_I_COST: Final = _WANTED.index(semconv.COST_USD)
_I_ERROR_TYPE: Final = _WANTED.index(semconv.ERROR_TYPE)
_I_ROUTE_SOURCE: Final = _WANTED.index(semconv.ROUTE_SOURCE)
_I_ROUTE_TARGET: Final = _WANTED.index(semconv.ROUTE_TARGET)
_I_LEGACY_ROUTE_SOURCE: Final = _WANTED.index(semconv.LEGACY_ROUTE_SOURCE)
_I_LEGACY_ROUTE_TARGET: Final = _WANTED.index(semconv.LEGACY_ROUTE_TARGET)
_I_FIRST_CHUNK: Final = _WANTED.index(semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK)
_LABEL_INDEXES: Final = {op: tuple((k, _WANTED.index(k)) for k in keys) for op, keys in _LABELS.items()}
_LLM_LABEL_INDEXES: Final = tuple((k, _WANTED.index(k)) for k in _LLM_LABELS)
_DURATION_METRIC: Final = {
    semconv.OP_INVOKE_WORKFLOW: semconv.METRIC_WORKFLOW_DURATION,
    semconv.OP_INVOKE_AGENT: semconv.METRIC_AGENT_DURATION,
    semconv.OP_EXECUTE_TOOL: semconv.METRIC_TOOL_DURATION,
}

# One pending record: the span's values for ``_WANTED`` (None if absent), start and end ns, whether
# it failed, and whether the span's library records gen_ai.client.token.usage and
# .operation.duration itself (``_HTTP`` instead, and values for ``_HTTP_WANTED``, for an HTTP
# server span whose duration is derived). Only atoms (no Status object): the collector untracks
# such tuples, so a full collection does not walk the thousands that wait for the next drain
# (16,384 records that held a Status added 5 ms to each full collection here).
_Pending = tuple[tuple[Any, ...], int | None, int | None, bool, tuple[bool, bool] | None]
_OURS: Final = (False, False)
_HTTP: Final = None
# Records a drain works through between two hand-overs of the GIL (a record costs a few us).
_DRAIN_YIELD_EVERY: Final = 32
# Records of one kind recorded together at most (about 0.3 us each).
_KIND_CHUNK: Final = 256


# Records the values one series gathered in a drain.
_Record = Callable[[Labels, Sequence[float]], None]
_Gathered = dict[tuple[_Record, Labels], list[float]]
_Sums = dict[tuple[Counter, Labels], float]
_OVERFLOW: Final[Labels] = ((semconv.METRIC_OVERFLOW, True),)


class _Cardinality:
    """Caps distinct label sets per metric; the rest share one overflow label set."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.seen: dict[str, set[tuple[tuple[str, Any], ...]]] = {}

    def labels(self, metric: str, labels: Labels, records: int = 1) -> Labels:
        """``labels``, or the overflow label set for ``records`` records (each counted) past the cap."""
        seen = self.seen.setdefault(metric, set())
        if labels in seen:
            return labels
        if len(seen) < self.limit:
            seen.add(labels)
            return labels
        stats.count_drop("metrics.cardinality_overflow", records)
        return _OVERFLOW


class SpanMetricsProcessor(SpanProcessor):
    """On end, queue a compact record; at collection time, record it into OTel instruments."""

    NEEDS_ON_START = False

    def __init__(
        self,
        meter: Meter,
        *,
        histograms: SpanHistograms | None = None,
        max_pending: int = 65536,
        max_series: int = 1000,
        drain_at: int = 4096,
    ) -> None:
        self._pending: deque[_Pending] = deque()
        self._max_pending = max_pending
        # About 300 bytes a record: a minute at 1,000 spans/s waiting for collection held 18 MiB.
        # A drain groups records by kind, so 4,096 at a time cost the tool span no more CPU than one
        # drain at collection (alternating rounds of 10,000 spans: 1.63x either way), and a Flask
        # app under load kept about 10 points more of its throughput than with 16,384.
        self._drain_at = drain_at
        self._lock = threading.Lock()
        # GIL hand-overs while draining (under the lock: one drain at a time).
        self._pacer = Pacer(_DRAIN_YIELD_EVERY)
        self._cardinality = _Cardinality(max_series)
        # Scopes whose SERVER spans give http.server.request.duration: ours, and a framework's whose
        # own per-request instruments an integration switched off (see derive_http_from).
        self._http_scopes: frozenset[str] = frozenset()
        # Run at each collection before the queued spans are recorded (configure(): the chain
        # works through the spans it still holds, so a scrape counts every span ended before it).
        self.before_collect: Callable[[], object] | None = None

        # Histograms go to ``histograms`` when configure() gives it (every exporter takes the points
        # it makes, see _span_histograms), else into the SDK's instruments.
        def histogram(
            name: str, unit: str, bounds: tuple[float, ...], *, pre_aggregated: bool = True
        ) -> _Record:
            if histograms is not None and pre_aggregated:
                return partial(histograms.record, HistogramSpec(name, unit, bounds))
            instrument = meter.create_histogram(name, unit=unit, explicit_bucket_boundaries_advisory=bounds)

            def record(labels: Labels, values: Sequence[float]) -> None:
                attributes = dict(labels)
                # About 10 us a value: paced like the drain's own loop (under its lock).
                step = self._pacer.step
                for value in values:
                    instrument.record(value, attributes)
                    step()

            return record

        self._durations = {op: histogram(name, "s", _BUCKETS[op]) for op, name in _DURATION_METRIC.items()}
        self._first_chunk = histogram(semconv.METRIC_CLIENT_TIME_TO_FIRST_CHUNK, "s", DURATION_BUCKETS)
        self._client_duration = histogram(semconv.METRIC_CLIENT_OPERATION_DURATION, "s", DURATION_BUCKETS)
        self._tokens = histogram(semconv.METRIC_CLIENT_TOKEN_USAGE, "{token}", TOKEN_BUCKETS)
        # Always an SDK instrument: pre-aggregated points reach a reader only beside some SDK point,
        # and a server that makes no agent span has none but this one.
        self._http_duration = histogram(
            semconv.METRIC_HTTP_SERVER_DURATION, "s", HTTP_DURATION_BUCKETS, pre_aggregated=False
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

    def derive_http_from(self, scope_name: str) -> None:
        """Derive http.server.request.duration from the SERVER spans of ``scope_name`` from now on:
        for a server that records no such metric itself (ours, or a framework told not to)."""
        self._http_scopes = self._http_scopes | {scope_name}

    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        return None

    @never_raise("processor.metrics.on_end")
    def on_end(self, span: ReadableSpan) -> None:
        self.note(span)

    def note(self, span: ReadableSpan) -> None:
        """Queue what the metrics need from ``span``; unguarded: callers guard it."""
        attrs = span_attributes(span)
        # The fields, not the properties: this runs for every span.
        scope = span._instrumentation_scope
        name = scope.name if scope is not None else None
        genai = (
            semconv.GEN_AI_OPERATION_NAME in attrs
            or semconv.ROUTE_SOURCE in attrs
            or semconv.LEGACY_ROUTE_SOURCE in attrs
        )
        if not genai and not (
            name in self._http_scopes
            and span._kind is SpanKind.SERVER
            and semconv.HTTP_REQUEST_METHOD in attrs  # a websocket's has none, and no duration
        ):
            return
        if len(self._pending) >= self._max_pending:
            stats.count_drop("metrics.pending_full")
            return
        if not genai:
            # An HTTP server span whose duration is derived: its labels' values only.
            values = tuple(map(attrs.get, _HTTP_WANTED))
            self._pending.append((values, span._start_time, span._end_time, False, _HTTP))
            return
        # Only the few values metrics use, fetched in C; labels are built at collection time.
        values = tuple(map(attrs.get, _WANTED))
        upstream = _OURS if name == semconv.SCOPE_NAME else upstream_client_metrics(name)
        failed = span._status.status_code is StatusCode.ERROR
        self._pending.append((values, span._start_time, span._end_time, failed, upstream))

    def drain_if_many(self) -> None:
        """Record the queued spans now if there are many (the chain's thread calls it after a batch)."""
        if len(self._pending) >= self._drain_at:
            self.drain()

    def drain(self) -> int:
        """Record every queued span into the instruments; returns how many were recorded."""
        # Each SDK record costs ~10 us: counter increments are summed per series first and added
        # once per series; histogram values are gathered per series and handed over in one call.
        sums: _Sums = {}
        gathered: _Gathered = {}
        # Records by what decides their series: the labels are built and looked up once per kind
        # of span in a drain, not once per span (a tool span's record: about 6 us, now 1-2 us).
        alike: dict[tuple[Any, ...], list[_Pending]] = {}
        pacer = self._pacer
        with self._lock:
            pacer.begin()
            n = 0
            while True:
                try:
                    record = self._pending.popleft()
                except IndexError:
                    break
                if n:
                    pacer.step()
                n += 1
                values = record[0]
                if record[4] is _HTTP:
                    key: tuple[Any, ...] = (values, False, _HTTP)
                elif values[_SERIES_FIELDS] is not None:
                    # Another span describes the same model call and is counted instead.
                    continue
                else:
                    key = (values[:_SERIES_FIELDS], record[3], record[4])
                try:
                    group = alike.get(key)
                except TypeError:  # an unhashable foreign value: a kind of its own
                    self._guarded([record], sums, gathered)
                    continue
                if group is None:
                    alike[key] = [record]
                    continue
                group.append(record)
                if len(group) >= _KIND_CHUNK:
                    # Recorded now, between the paced steps, so no part of a drain holds the GIL
                    # for much longer than a step does.
                    self._guarded(group, sums, gathered)
                    alike[key] = []
            for records in alike.values():
                if records:
                    self._guarded(records, sums, gathered)
            for (counter, labels), total in sums.items():
                with never_raise("processor.metrics.record"):
                    counter.add(total, dict(labels))
            for (histogram, labels), measured in gathered.items():
                with never_raise("processor.metrics.record"):
                    histogram(labels, measured)
        return n

    def _guarded(self, records: list[_Pending], sums: _Sums, gathered: _Gathered) -> None:
        try:
            if records[0][4] is _HTTP:
                self._record_requests(records, gathered)
            else:
                self._record(records, sums, gathered)
        except Exception as exc:  # the guard's body: a context manager per kind costs more
            if not contained("processor.metrics.record", exc):
                raise

    def _record_requests(self, records: list[_Pending], gathered: _Gathered) -> None:
        """Record the durations of HTTP server spans that share their labels."""
        values = records[0][0]
        labels = tuple(
            (key, value) for key, value in zip(_HTTP_WANTED, values, strict=True) if value is not None
        )
        labels = self._cardinality.labels(semconv.METRIC_HTTP_SERVER_DURATION, labels, len(records))
        durations = [max((end_ns or 0) - (start_ns or 0), 0) / 1e9 for _, start_ns, end_ns, _, _ in records]
        _gather(gathered, self._http_duration, labels, durations)

    def _add(
        self, sums: _Sums, counter: Counter, metric: str, labels: Labels, amounts: Sequence[float]
    ) -> None:
        """Add ``amounts`` (one per record, in order) to a counter's series."""
        key = (counter, self._cardinality.labels(metric, labels, len(amounts)))
        total = sums.get(key, 0)
        for amount in amounts:
            total += amount
        sums[key] = total

    def _record(self, records: list[_Pending], sums: _Sums, gathered: _Gathered) -> None:
        """Record ``records``, which share every value that decides a series."""
        values, _, _, failed, upstream = records[0]
        assert upstream is not _HTTP  # _guarded sends those to _record_requests
        durations = [max((end_ns or 0) - (start_ns or 0), 0) / 1e9 for _, start_ns, end_ns, _, _ in records]
        # Values are read by their index in _WANTED: no dict of the span's values per record.
        upstream_tokens, upstream_duration = upstream
        ones = [1] * len(records)
        card = self._cardinality.labels
        source = values[_I_ROUTE_SOURCE]
        if source is None:
            source = values[_I_LEGACY_ROUTE_SOURCE]
        if source is not None:
            # A route span, or a framework's hand-off (a tool span the normaliser gave an edge).
            target = values[_I_ROUTE_TARGET]
            if target is None:
                target = values[_I_LEGACY_ROUTE_TARGET]
            edge = (
                (semconv.ROUTE_SOURCE, str(source)),
                (semconv.ROUTE_TARGET, str(target) if target is not None else ""),
            )
            self._add(sums, self._routes, semconv.METRIC_ROUTE_DECISIONS, edge, ones)
        op = values[_I_OPERATION]
        if op is None:
            return
        op = str(op)
        present = [
            (key, values[i]) for key, i in _LABEL_INDEXES.get(op, _LLM_LABEL_INDEXES) if values[i] is not None
        ]
        base = ((semconv.GEN_AI_OPERATION_NAME, op), *present)
        if failed:
            error = values[_I_ERROR_TYPE]
            with_error = (*base, (semconv.ERROR_TYPE, str(error) if error is not None else "_OTHER"))
        else:
            with_error = base
        histogram = self._durations.get(op)
        if histogram is not None:
            _gather(gathered, histogram, card(op, with_error, len(records)), durations)
            # A tool's own cost counts where it was spent; workflows and agents only roll it up.
            if op == semconv.OP_EXECUTE_TOOL:
                self._add_costs(sums, base, records)
        elif op not in _NO_DURATION:
            if not upstream_duration:
                _gather(gathered, self._client_duration, card(op, with_error, len(records)), durations)
            first_chunks = [
                chunk for chunk in (_float(r[0][_I_FIRST_CHUNK]) for r in records) if chunk is not None
            ]
            if first_chunks:
                labels = card(semconv.METRIC_CLIENT_TIME_TO_FIRST_CHUNK, base, len(first_chunks))
                _gather(gathered, self._first_chunk, labels, first_chunks)
            if not upstream_tokens:
                for token_type, index in (
                    (semconv.TOKEN_TYPE_INPUT, _I_INPUT_TOKENS),
                    (semconv.TOKEN_TYPE_OUTPUT, _I_OUTPUT_TOKENS),
                ):
                    counts: list[float] = [count for count in (_int(r[0][index]) for r in records) if count]
                    if counts:
                        labels = (*base, (semconv.GEN_AI_TOKEN_TYPE, token_type))
                        labels = card(semconv.METRIC_CLIENT_TOKEN_USAGE, labels, len(counts))
                        _gather(gathered, self._tokens, labels, counts)
            self._add_costs(sums, base, records)
        self._add(sums, self._calls, semconv.METRIC_CALLS, base, ones)
        if with_error is not base:
            self._add(sums, self._errors, semconv.METRIC_ERRORS, with_error, ones)

    def _add_costs(self, sums: _Sums, base: Labels, records: list[_Pending]) -> None:
        costs = [cost for cost in (_float(r[0][_I_COST]) for r in records) if cost]
        if costs:
            self._add(sums, self._cost, semconv.METRIC_COST, base, costs)

    def _observe_drops(self, options: CallbackOptions) -> Iterable[Observation]:
        with never_raise("processor.metrics.drain"):
            if self.before_collect is not None:
                self.before_collect()
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


def _gather(gathered: _Gathered, histogram: _Record, labels: Labels, values: Sequence[float]) -> None:
    key = (histogram, labels)
    known = gathered.get(key)
    if known is None:
        gathered[key] = list(values)
    else:
        known.extend(values)


def _observations(counts: Mapping[str, int], label: str) -> list[Observation]:
    return [Observation(n, {label: key}) for key, n in counts.items()]


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
