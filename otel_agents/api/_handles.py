"""The handles a ``with oa.workflow/agent/tool/llm(...)`` block yields: typed, guarded span setters."""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Mapping, Sequence

from opentelemetry.trace import Span, Status, StatusCode

from otel_agents.api import _pricing as pricing
from otel_agents.api import _semconv as semconv
from otel_agents.api._guard import never_raise
from otel_agents.api._switches import switches
from otel_agents.api._values import (
    AttributeValue,
    fit_span_value,
    preview_source,
    summarize,
    to_attribute,
    to_json,
)
from otel_agents.api._walk import INT64_MAX, safe_str

# The most items read from any sequence argument (route candidates, finish reasons).
MAX_SEQUENCE = 64


class Totals:
    """Tokens, cost and call counts rolled up from everything inside one workflow or agent."""

    __slots__ = (
        "cost_usd",
        "input_tokens",
        "llm_calls",
        "lock",
        "output_tokens",
        "pending",
        "priced_tool_calls",
        "provider",
        "tool_calls",
        "unknown_cost_calls",
    )

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.input_tokens = 0
        self.output_tokens = 0
        self.cost_usd = 0.0
        self.unknown_cost_calls = 0
        self.llm_calls = 0
        self.tool_calls = 0
        self.priced_tool_calls = 0
        self.provider: str | None = None
        # Calls made while the price table loads: priced when the roll-up is read after that.
        self.pending: list[pricing.PriceRequest] = []

    def add_llm(
        self,
        input_tokens: int,
        output_tokens: int,
        cost: float | pricing.PriceRequest | None,
        provider: str | None = None,
    ) -> None:
        """Count one finished LLM call (the first known provider is kept for the agent span);
        a ``PriceRequest`` cost is priced once the table is loaded."""
        with self.lock:
            if self.provider is None and provider is not None and provider != semconv.PROVIDER_UNKNOWN:
                self.provider = provider
            self.llm_calls += 1
            self.input_tokens += input_tokens
            self.output_tokens += output_tokens
            if isinstance(cost, pricing.PriceRequest):
                self.pending.append(cost)
            elif cost is None:
                self.unknown_cost_calls += 1
            else:
                self.cost_usd += cost

    def add_tool(self, cost: float | None = None) -> None:
        """Count one tool call, with the cost it reported (paid APIs, compute), if any."""
        with self.lock:
            self.tool_calls += 1
            if cost is not None:
                self.priced_tool_calls += 1
                self.cost_usd += cost

    def attributes(self) -> dict[str, int | float | bool]:
        """The roll-up as span attributes; cost is only claimed when every call had a price, and
        left out while some call waits for the price table (``pending`` then stays non-empty)."""
        with self.lock:
            if self.pending and not pricing.loading():
                for request in self.pending:
                    cost = request.cost()
                    if cost is None:
                        self.unknown_cost_calls += 1
                    else:
                        self.cost_usd += cost
                self.pending.clear()
            attrs: dict[str, int | float | bool] = {
                semconv.LLM_CALLS: self.llm_calls,
                semconv.TOOL_CALLS: self.tool_calls,
            }
            if self.llm_calls:
                attrs[semconv.GEN_AI_USAGE_INPUT_TOKENS] = self.input_tokens
                attrs[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] = self.output_tokens
                if self.unknown_cost_calls:
                    attrs[semconv.COST_UNKNOWN_CALLS] = self.unknown_cost_calls
            if self.pending:
                return attrs
            if self.llm_calls > self.unknown_cost_calls or self.priced_tool_calls:
                attrs[semconv.COST_USD] = self.cost_usd
            return attrs


class SpanHandle:
    """A running span: set attributes and events without ever raising into user code."""

    __slots__ = ("_chain", "_span")

    def __init__(self, span: Span, chain: tuple[Totals, ...] = ()) -> None:
        self._span = span
        self._chain = chain

    @property
    def span(self) -> Span:
        """The underlying OpenTelemetry span."""
        return self._span

    @never_raise("api.set_attribute")
    def set_attribute(self, key: str, value: object) -> None:
        """Set one attribute; any value is accepted and coerced (JSON for containers)."""
        coerced = to_attribute(value)
        if coerced is not None:
            self._span.set_attribute(safe_str(key, 256), fit_span_value(coerced))

    @never_raise("api.add_event")
    def add_event(self, name: str, attributes: Mapping[str, object] | None = None) -> None:
        """Record a timestamped event on the span."""
        attrs = {}
        if attributes is not None:
            for key, value in itertools.islice(attributes.items(), 128):
                coerced = to_attribute(value)
                if coerced is not None:
                    attrs[safe_str(key, 256)] = coerced
        self._span.add_event(safe_str(name, 256), attrs)

    def _content(
        self, content_key: str, summary_key: str, value: object, preview_key: str | None = None
    ) -> None:
        if switches.capture_content:
            self._span.set_attribute(content_key, fit_span_value(to_json(value)))
            return
        self._span.set_attribute(summary_key, summarize(value))
        if preview_key is not None and switches.preview_content:
            self._span.set_attribute(preview_key, preview_source(value))


class RunHandle(SpanHandle):
    """A workflow or agent run: input/output, items, custom metrics, metadata and roll-ups."""

    __slots__ = ("totals",)

    def __init__(self, span: Span, chain: tuple[Totals, ...], totals: Totals) -> None:
        super().__init__(span, chain)
        self.totals = totals

    @never_raise("api.set_input")
    def set_input(self, value: object) -> None:
        """Describe the run's input (content only when capture is enabled, else a summary)."""
        self._content(semconv.RUN_INPUT_SUMMARY, semconv.RUN_INPUT_SUMMARY, value, semconv.RUN_INPUT_PREVIEW)

    @never_raise("api.set_result")
    def set_result(self, value: object) -> None:
        """Describe the run's output (content only when capture is enabled, else a summary)."""
        self._content(
            semconv.RUN_OUTPUT_SUMMARY, semconv.RUN_OUTPUT_SUMMARY, value, semconv.RUN_OUTPUT_PREVIEW
        )

    @never_raise("api.set_status")
    def set_status(self, status: str) -> None:
        """Set the run's status (any short word); failed-like ones also mark the span as an error."""
        text = status if isinstance(status, str) else str(status)
        text = text.strip()[:64] or semconv.RUN_STATUS_OK
        self._span.set_attribute(semconv.RUN_STATUS, text)
        if text.lower() in semconv.FAILED_STATUSES:
            self._span.set_status(Status(StatusCode.ERROR, f"run status {text}"))

    @never_raise("api.set_items")
    def set_items(
        self,
        *,
        discovered: int | None = None,
        succeeded: int | None = None,
        failed: int | None = None,
    ) -> None:
        """Record how many items the run found, handled and failed."""
        for key, value in (
            (semconv.RUN_ITEMS_DISCOVERED, discovered),
            (semconv.RUN_ITEMS_SUCCEEDED, succeeded),
            (semconv.RUN_ITEMS_FAILED, failed),
        ):
            if value is not None:
                self.set_attribute(key, value)

    @never_raise("api.set_metrics")
    def set_metrics(self, metrics: Mapping[str, object]) -> None:
        """Attach custom run metrics, stored as one JSON attribute."""
        self._span.set_attribute(semconv.RUN_METRICS, to_json(metrics))

    @never_raise("api.set_metadata")
    def set_metadata(self, **metadata: object) -> None:
        """Attach run metadata (product, platform, git_repo, git_branch, ...)."""
        for key, value in metadata.items():
            self.set_attribute(semconv.RUN_METADATA_PREFIX + key, value)


class ToolHandle(SpanHandle):
    """A tool call: its result, and a cost that rolls up into its agent and workflow like an LLM's."""

    __slots__ = ("_cost",)

    def __init__(self, span: Span, chain: tuple[Totals, ...] = ()) -> None:
        super().__init__(span, chain)
        self._cost: float | None = None

    @never_raise("api.set_cost")
    def set_cost(self, usd: float) -> None:
        """What this call cost in USD (a paid API, compute); added to the enclosing runs' cost."""
        cost = _finite(usd)
        if cost is None or cost < 0:
            return
        self._cost = cost
        self._span.set_attribute(semconv.COST_USD, cost)

    @never_raise("api.set_attribute")
    def set_attribute(self, key: str, value: object) -> None:
        """Set one attribute; ``otel_agents.cost.usd`` also counts as the tool's cost."""
        if key == semconv.COST_USD:
            self.set_cost(value)  # type: ignore[arg-type]
            return
        super().set_attribute(key, value)

    def cost(self) -> float | None:
        """The cost recorded with :meth:`set_cost`, if any."""
        return self._cost

    @never_raise("api.set_result")
    def set_result(self, value: object) -> None:
        """Record the tool's result (content only when capture is enabled, else a summary)."""
        self._content(semconv.GEN_AI_TOOL_CALL_RESULT, semconv.TOOL_RESULT_SUMMARY, value)


class LLMHandle(SpanHandle):
    """An LLM call: token usage, cost, response metadata, streaming and (opt-in) messages."""

    __slots__ = ("_first_chunk", "_model", "_provider", "_started", "_usage", "provider_name")

    def __init__(
        self,
        span: Span,
        chain: tuple[Totals, ...],
        model: str,
        provider: str | None,
        *,
        provider_name: str | None = None,
    ):
        super().__init__(span, chain)
        self._model = model
        # The provider as given (for prices) and as recorded (given or inferred).
        self._provider = provider
        self.provider_name = provider_name if provider_name is not None else provider
        self._usage: tuple[int, int, float | pricing.PriceRequest | None] | None = None
        self._started = time.monotonic()
        self._first_chunk = False

    @never_raise("api.first_chunk")
    def first_chunk(self) -> None:
        """Mark the first chunk of a streamed response: ``gen_ai.response.time_to_first_chunk``
        (seconds since the call started) and ``gen_ai.request.stream``; later calls do nothing."""
        if self._first_chunk:
            return
        self._first_chunk = True
        self._span.set_attributes(
            {
                semconv.GEN_AI_REQUEST_STREAM: True,
                semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: time.monotonic() - self._started,
            }
        )

    @never_raise("api.record_usage")
    def record_usage(
        self,
        *,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cache_read_input_tokens: int = 0,
        cache_creation_input_tokens: int = 0,
        reasoning_output_tokens: int = 0,
        cost_usd: float | None = None,
    ) -> None:
        """Record token usage; without ``cost_usd`` the cost comes from the bundled price table."""
        ins, outs = _count(input_tokens), _count(output_tokens)
        cached = _count(cache_read_input_tokens)
        written = _count(cache_creation_input_tokens)
        attrs: dict[str, int | float | bool] = {
            semconv.GEN_AI_USAGE_INPUT_TOKENS: ins,
            semconv.GEN_AI_USAGE_OUTPUT_TOKENS: outs,
        }
        for key, value in (
            (semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, cached),
            (semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, written),
            (semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, _count(reasoning_output_tokens)),
        ):
            if value:
                attrs[key] = value
        cost: float | pricing.PriceRequest | None = _finite(cost_usd)
        # A span that records nothing (no SDK, sampled out) is not worth loading the table for.
        if cost is None and self._span.is_recording():
            request = pricing.PriceRequest(self._model, self._provider, ins, outs, cached, written)
            cost = pricing.price_or_defer(request, self._span.get_span_context().span_id)
        if not isinstance(cost, pricing.PriceRequest):
            attrs.update(pricing.cost_attributes(cost))
        self._span.set_attributes(attrs)
        self._usage = (ins, outs, cost)

    @never_raise("api.set_response")
    def set_response(
        self,
        *,
        model: str | None = None,
        response_id: str | None = None,
        finish_reasons: Sequence[str] | None = None,
    ) -> None:
        """Record what the provider answered with: model, response id, finish reasons."""
        attrs: dict[str, AttributeValue] = {}
        for key, value in ((semconv.GEN_AI_RESPONSE_MODEL, model), (semconv.GEN_AI_RESPONSE_ID, response_id)):
            coerced = None if value is None else to_attribute(value)
            if coerced is not None:
                attrs[key] = fit_span_value(coerced)
        if finish_reasons is not None:
            # Any iterable, even an endless one: at most MAX_SEQUENCE items are read.
            items = (finish_reasons,) if isinstance(finish_reasons, str) else finish_reasons
            reasons = to_attribute([safe_str(r, 256) for r in itertools.islice(items, MAX_SEQUENCE)])
            if reasons is not None:
                attrs[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = fit_span_value(reasons)
        # One SDK call for all three: each takes the span's lock and checks every value again.
        if attrs:
            self._span.set_attributes(attrs)

    @never_raise("api.set_messages")
    def set_messages(self, *, input: object = None, output: object = None) -> None:
        """Record prompt and completion messages (content only when capture is enabled)."""
        if input is not None:
            self._content(semconv.GEN_AI_INPUT_MESSAGES, semconv.LLM_INPUT_SUMMARY, input)
        if output is not None:
            self._content(semconv.GEN_AI_OUTPUT_MESSAGES, semconv.LLM_OUTPUT_SUMMARY, output)

    def usage(self) -> tuple[int, int, float | pricing.PriceRequest | None] | None:
        """(input tokens, output tokens, cost or None or the call still to price) once recorded."""
        return self._usage


class RetrievalHandle(SpanHandle):
    """A retrieval: the documents found."""

    __slots__ = ()

    @never_raise("api.set_documents")
    def set_documents(self, documents: object) -> None:
        """Record the retrieved documents, ideally ``[{"id": ..., "score": ...}]`` (content only when
        capture is enabled, else a summary)."""
        self._content(semconv.GEN_AI_RETRIEVAL_DOCUMENTS, semconv.RETRIEVAL_DOCUMENTS_SUMMARY, documents)


def _count(value: object) -> int:
    """A token count from user input: an int from 0 to int64's largest, anything else counts as 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0
    try:
        number = int(value)
    except (OverflowError, ValueError):
        return 0
    # Past int64 no exporter could carry it, and it would be priced at trillions of dollars.
    return number if 0 <= number <= INT64_MAX else 0


def _finite(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else None
