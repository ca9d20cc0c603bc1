"""``workflow``, ``agent``, ``tool``, ``llm`` and the other GenAI spans: context managers, decorators."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import itertools
import logging
import math
import time
import traceback
from collections.abc import AsyncGenerator, Callable, Generator, Iterator, Sequence
from types import TracebackType
from typing import Any, Generic, TypeVar, cast

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import INVALID_SPAN, Span, SpanKind, Status, StatusCode

from otel_agents.api import _pricing as pricing
from otel_agents.api import _semconv as semconv
from otel_agents.api._guard import contained, contained_call, never_raise
from otel_agents.api._handles import (
    MAX_SEQUENCE,
    LLMHandle,
    RetrievalHandle,
    RunHandle,
    SpanHandle,
    ToolHandle,
    Totals,
)
from otel_agents.api._run_context import (
    current_agent,
    outer_rollups,
    rollup_chain,
    stamp,
    take_outer_rollups,
    with_agent,
    with_run_state,
)
from otel_agents.api._switches import switches
from otel_agents.api._values import summarize, to_attribute, to_json
from otel_agents.api._version import __version__
from otel_agents.api._walk import safe_str

H = TypeVar("H", bound=SpanHandle)
F = TypeVar("F", bound=Callable[..., Any])
# Longest span, agent, tool or model name kept: names become span names and metric labels.
MAX_NAME = 256

_events = logging.getLogger(semconv.EVENT_LOGGER)
_tracer_cache: tuple[trace.TracerProvider, trace.Tracer, bool] | None = None


def _tracer() -> trace.Tracer:
    """The tracer of the provider in force now (tests and ``configure`` may replace it)."""
    return _tracer_state()[0]


def _idle() -> bool:
    """True while no SDK provider is installed: every span would be the invalid, recording-nothing one."""
    return _tracer_state()[1]


def _tracer_state() -> tuple[trace.Tracer, bool]:
    global _tracer_cache  # noqa: PLW0603 - a one-slot cache keyed on the provider
    provider = trace.get_tracer_provider()
    cached = _tracer_cache
    if cached is not None and cached[0] is provider:
        return cached[1], cached[2]
    tracer = provider.get_tracer(semconv.SCOPE_NAME, __version__, schema_url=semconv.SCHEMA_URL)
    idle = type(provider) in (trace.ProxyTracerProvider, trace.NoOpTracerProvider)
    _tracer_cache = (provider, tracer, idle)
    return tracer, idle


def error_type(exc: BaseException) -> str:
    """The ``error.type`` value: the exception's qualified class name."""
    cls = type(exc)
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


def _record_exception(span: Span, exc: BaseException) -> None:
    # Not span.record_exception: it calls str(exc), which user exceptions may make raise.
    try:
        stack = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    except Exception:  # noqa: BLE001 - formatting calls the exception's __str__ too
        stack = "<unformattable traceback>"
    message = safe_str(exc)
    span.set_attribute(semconv.ERROR_TYPE, error_type(exc))
    span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {message}"))
    span.add_event(
        "exception",
        {
            semconv.EXCEPTION_TYPE: error_type(exc),
            semconv.EXCEPTION_MESSAGE: message,
            semconv.EXCEPTION_STACKTRACE: stack,
        },
    )


class _Spec(Generic[H]):
    """What one kind of span looks like before it starts."""

    __slots__ = ("agent", "attributes", "kind", "make_handle", "name", "operation", "run_kind")

    def __init__(
        self,
        *,
        name: str,
        operation: str,
        kind: SpanKind,
        attributes: dict[str, Any],
        make_handle: Callable[[Span, tuple[Totals, ...], Totals | None], H],
        run_kind: str | None = None,
        agent: str | None = None,
    ) -> None:
        self.name = name
        self.operation = operation
        self.kind = kind
        self.attributes = attributes
        self.make_handle = make_handle
        self.run_kind = run_kind
        self.agent = agent


class _Active(Generic[H]):
    """One running span, its OTel context and its handle."""

    __slots__ = ("ctx", "handle", "idle", "span", "spec", "token", "totals")

    def __init__(
        self, spec: _Spec[H], extra: dict[str, Any] | None = None, start_time: int | None = None
    ) -> None:
        self.spec = spec
        self.token: object = None
        self.totals: Totals | None = None
        parent = otel_context.get_current()
        # No SDK (a library using otel_agents in an app that never configured one): nothing would
        # be recorded, so no attributes, context or roll-ups are built.
        self.idle = _idle()
        if self.idle:
            self.span: Span = INVALID_SPAN
            # The agent's name still reaches log lines through the context (otel_agents.logs).
            self.ctx = parent if spec.agent is None else with_agent(spec.agent, parent)
            self.handle = spec.make_handle(INVALID_SPAN, (), None)
            return
        chain = cast(tuple[Totals, ...], rollup_chain(parent))
        try:
            # Stamp first, then the span's own attributes: an agent keeps its own name.
            attrs = {**stamp(parent), **spec.attributes}
            if extra:
                attrs.update(extra)
            if spec.run_kind is not None:
                if spec.run_kind == semconv.RUN_KIND_WORKFLOW or not chain:
                    attrs[semconv.RUN_KIND] = spec.run_kind
                self.totals = Totals()
            self.span = _tracer().start_span(
                spec.name, context=parent, kind=spec.kind, attributes=attrs, start_time=start_time
            )
            ctx = trace.set_span_in_context(self.span, parent)
            agent = spec.agent
            below: tuple[Totals, ...] | None = None
            outer = take_outer_rollups(chain, self.span.get_span_context().span_id) if outer_rollups else None
            if outer is not None:
                # Inside a framework's agent: its roll-up counts this span's calls, its name the spans below.
                outer_agent, merged = outer
                chain = cast(tuple[Totals, ...], merged)
                if agent is None:
                    agent = outer_agent
                below = chain
            if self.totals is not None:
                below = (*chain, self.totals)
            if agent is not None or below is not None:
                ctx = with_run_state(ctx, agent=agent, chain=below)
            self.ctx = ctx
        except Exception as exc:
            if not contained("api.start", exc):
                raise
            self.span = INVALID_SPAN
            self.ctx = parent
            self.totals = None
        self.handle = spec.make_handle(self.span, chain, self.totals)

    def attach(self) -> None:
        if not self.idle or self.spec.agent is not None:
            self.token = otel_context.attach(self.ctx)

    def detach(self) -> None:
        if self.token is not None:
            # No guard: opentelemetry.context.detach catches and logs its own failures.
            otel_context.detach(cast(Any, self.token))
            self.token = None

    def finish(self, exc: BaseException | None, end_time: int | None = None) -> None:
        if self.idle:
            return
        span = self.span
        # try/except rather than `with never_raise(...)`: free when nothing raises, on every span.
        try:
            if exc is not None and not isinstance(exc, GeneratorExit):
                _record_exception(span, exc)
            self._roll_up(span)
            if switches.log_events:
                self._log_event(exc)
        except Exception as error:
            if not contained("api.finish", error):
                raise
        finally:
            try:
                span.end(end_time)
            except Exception as error:
                if not contained("api.end", error):
                    raise

    def _roll_up(self, span: Span) -> None:
        handle = self.handle
        totals = self.totals
        if totals is not None:
            rolled: dict[str, Any] = totals.attributes()
            if self.spec.operation == semconv.OP_INVOKE_AGENT and (
                semconv.GEN_AI_PROVIDER_NAME not in self.spec.attributes
            ):
                # Required on invoke_agent: the provider of the agent's first LLM call, if any.
                rolled[semconv.GEN_AI_PROVIDER_NAME] = totals.provider or semconv.PROVIDER_UNKNOWN
            # One SDK call: each takes the span's lock and checks every value again.
            span.set_attributes(rolled)
            # Calls still to price: the pipeline adds the cost off this thread once the table is in.
            if (
                totals.pending
                and span.is_recording()
                and not pricing.defer(span.get_span_context().span_id, totals.attributes)
            ):
                pricing.wait_loaded(pricing.FORK_WAIT_S)
                span.set_attributes(totals.attributes())
        if isinstance(handle, ToolHandle):
            cost = handle.cost()
            for outer in handle._chain:
                outer.add_tool(cost)
        elif isinstance(handle, LLMHandle):
            usage = handle.usage()
            ins, outs, llm_cost = usage if usage is not None else (0, 0, None)
            for outer in handle._chain:
                outer.add_llm(ins, outs, llm_cost, handle.provider_name)

    def _log_event(self, exc: BaseException | None) -> None:
        if not _events.isEnabledFor(logging.INFO):
            return
        status = "error" if exc is not None and not isinstance(exc, GeneratorExit) else "ok"
        _events.info(
            "%s %s",
            self.spec.name,
            status,
            extra={semconv.GEN_AI_OPERATION_NAME: self.spec.operation, semconv.EVENT_STATUS: status},
        )


class Scope(Generic[H]):
    """Use as ``with`` / ``async with`` (yields a handle) or as a decorator of any function kind."""

    __slots__ = ("_extra", "_spec", "_stack")

    def __init__(self, spec: _Spec[H], extra: dict[str, Any] | None = None) -> None:
        self._spec = spec
        self._extra = extra
        self._stack: list[_Active[H]] = []

    def __enter__(self) -> H:
        active = _Active(self._spec, self._extra)
        active.attach()
        self._stack.append(active)
        return active.handle

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        active = self._pop()
        if active is None:
            return
        try:
            active.finish(exc)
        finally:
            active.detach()

    def _pop(self) -> _Active[H] | None:
        """The entry this exit closes: the one whose context is current. One Scope object entered by
        concurrent tasks or threads holds several entries, and they need not exit in order."""
        stack = self._stack
        if not stack:
            return None  # __exit__ without __enter__: nothing of ours to close
        current = otel_context.get_current()
        for i in range(len(stack) - 1, -1, -1):
            if stack[i].ctx is current:
                return stack.pop(i)
        return stack.pop()

    async def __aenter__(self) -> H:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    def __call__(self, fn: F) -> F:
        try:
            return self._decorate(fn)
        except Exception as exc:  # a callable whose attributes raise: leave it undecorated
            if not contained("api.decorate", exc):
                raise
            return fn

    def _decorate(self, fn: F) -> F:
        spec, extra = self._spec, self._extra
        if inspect.isasyncgenfunction(fn):
            return cast(F, _wrap_async_gen(spec, extra, fn))
        if inspect.isgeneratorfunction(fn):
            return cast(F, _wrap_gen(spec, extra, fn))
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with Scope(spec, extra):
                    return await fn(*args, **kwargs)

            return cast(F, async_wrapper)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with Scope(spec, extra):
                return fn(*args, **kwargs)

        return cast(F, wrapper)


def _wrap_gen(
    spec: _Spec[Any], extra: dict[str, Any] | None, fn: Callable[..., Generator[Any, Any, Any]]
) -> Callable[..., Any]:
    """The span covers the generator's whole life; its body runs inside it, the consumer does not."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        active = _Active(spec, extra)
        failure: BaseException | None = None
        try:
            gen = fn(*args, **kwargs)
            to_send: Any = None
            to_throw: BaseException | None = None
            while True:
                active.attach()
                try:
                    if to_throw is not None:
                        pending, to_throw = to_throw, None
                        item = gen.throw(pending)
                    else:
                        item = gen.send(to_send)
                except StopIteration as stop:
                    return stop.value
                finally:
                    active.detach()
                try:
                    to_send = yield item
                except GeneratorExit:
                    gen.close()
                    raise
                except BaseException as exc:  # noqa: BLE001 - thrown in by the consumer, passed on
                    to_throw = exc
        except BaseException as exc:
            failure = exc
            raise
        finally:
            active.finish(failure)

    return wrapper


def _wrap_async_gen(
    spec: _Spec[Any], extra: dict[str, Any] | None, fn: Callable[..., AsyncGenerator[Any, Any]]
) -> Callable[..., Any]:
    """As ``_wrap_gen``, for async generators."""

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        active = _Active(spec, extra)
        failure: BaseException | None = None
        try:
            agen = fn(*args, **kwargs)
            to_send: Any = None
            to_throw: BaseException | None = None
            while True:
                active.attach()
                try:
                    if to_throw is not None:
                        pending, to_throw = to_throw, None
                        item = await agen.athrow(pending)
                    else:
                        item = await agen.asend(to_send)
                except StopAsyncIteration:
                    return
                finally:
                    active.detach()
                try:
                    to_send = yield item
                except GeneratorExit:
                    await agen.aclose()
                    raise
                except BaseException as exc:  # noqa: BLE001 - thrown in by the consumer, passed on
                    to_throw = exc
        except BaseException as exc:
            # A consumer that stops listening (a client gone, a task cancelled) is no failure of
            # the generator's: the span ends without an error status, as for GeneratorExit.
            failure = None if isinstance(exc, asyncio.CancelledError) else exc
            raise
        finally:
            active.finish(failure)

    return wrapper


@contextlib.contextmanager
def recorded(scope: Scope[H], duration_s: float | None = None) -> Iterator[H]:
    """A span for work that already happened: it started ``duration_s`` seconds ago, ends on exit.

    For APIs that report an operation after the fact (``log_agent_execution(..., duration_ms=)``):
    the span's duration and everything derived from it (metrics, ``stats``) is the reported one.
    """
    now = time.time_ns()
    seconds = duration_s if isinstance(duration_s, (int, float)) and not isinstance(duration_s, bool) else 0.0
    start = now - int(seconds * 1e9) if math.isfinite(seconds) and 0 < seconds < 10**8 else None
    active = _Active(scope._spec, scope._extra, start_time=start)
    active.attach()
    failure: BaseException | None = None
    try:
        yield active.handle
    except BaseException as exc:
        failure = exc
        raise
    finally:
        try:
            active.finish(failure, end_time=now if start is not None else None)
        finally:
            active.detach()


def _run_handle(span: Span, chain: tuple[Totals, ...], totals: Totals | None) -> RunHandle:
    return RunHandle(span, chain, totals if totals is not None else Totals())


def _tool_handle(span: Span, chain: tuple[Totals, ...], _: Totals | None) -> ToolHandle:
    return ToolHandle(span, chain)


def _retrieval_handle(span: Span, chain: tuple[Totals, ...], _: Totals | None) -> RetrievalHandle:
    return RetrievalHandle(span, chain)


def _plain_handle(span: Span, chain: tuple[Totals, ...], _: Totals | None) -> SpanHandle:
    return SpanHandle(span, chain)


def _llm_handle(span: Span, chain: tuple[Totals, ...], _: Totals | None) -> LLMHandle:
    return LLMHandle(span, chain, "", None)


def _name(value: object) -> str:
    """A plain str of at most MAX_NAME characters, whatever ``value`` is."""
    if type(value) is str:
        return value if len(value) <= MAX_NAME else value[:MAX_NAME]
    return safe_str(value, MAX_NAME)


def _flag(value: object) -> bool:
    """``bool(value)``, False when that raises."""
    try:
        return bool(value)
    except Exception:  # noqa: BLE001 - a user __bool__ may raise anything
        return False


def _fallback(operation: str, make_handle: Callable[..., Any]) -> Scope[Any]:
    """What a factory returns when its arguments could not be used: a span with the static name only."""
    return Scope(
        _Spec(
            name=operation,
            operation=operation,
            kind=SpanKind.INTERNAL,
            attributes={semconv.GEN_AI_OPERATION_NAME: operation},
            make_handle=make_handle,
        )
    )


def _factory(operation: str, make_handle: Callable[..., Any]) -> Callable[[F], F]:
    """Guard a span factory: arguments it cannot use give a plain span, never an exception."""

    def decorate(fn: F) -> F:
        site = f"api.{fn.__name__}"

        @functools.wraps(fn)
        def factory(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                if not contained_call(site, fn, args, kwargs, exc, instead="it records a plain span instead"):
                    raise
                return _fallback(operation, make_handle)

        return cast(F, factory)

    return decorate


@_factory(semconv.OP_INVOKE_WORKFLOW, _run_handle)
def workflow(name: str, *, description: str | None = None) -> Scope[RunHandle]:
    """A multi-step workflow: span ``invoke_workflow {name}``; a run in the local store."""
    name = _name(name)
    attrs: dict[str, Any] = {
        semconv.GEN_AI_OPERATION_NAME: semconv.OP_INVOKE_WORKFLOW,
        semconv.GEN_AI_WORKFLOW_NAME: name,
    }
    if description is not None:
        attrs[semconv.WORKFLOW_DESCRIPTION] = _name(description)
    return Scope(
        _Spec(
            name=semconv.SPAN_WORKFLOW.format(name),
            operation=semconv.OP_INVOKE_WORKFLOW,
            kind=SpanKind.INTERNAL,
            attributes=attrs,
            make_handle=_run_handle,
            run_kind=semconv.RUN_KIND_WORKFLOW,
        )
    )


@_factory(semconv.OP_INVOKE_AGENT, _run_handle)
def agent(
    name: str,
    *,
    agent_id: str | None = None,
    description: str | None = None,
    version: str | None = None,
    remote: bool = False,
    provider: str | None = None,
    server_address: str | None = None,
    server_port: int | None = None,
) -> Scope[RunHandle]:
    """An agent run: span ``invoke_agent {name}``; every span inside carries the agent's name.

    ``provider`` is ``gen_ai.provider.name`` (required by the conventions): without it, the provider
    of the first LLM call inside is used, else ``unknown``. ``server_address``/``server_port``
    locate a remote agent (``remote=True``, kind CLIENT).
    """
    name = _name(name)
    attrs: dict[str, Any] = {
        semconv.GEN_AI_OPERATION_NAME: semconv.OP_INVOKE_AGENT,
        semconv.GEN_AI_AGENT_NAME: name,
    }
    for key, value in (
        (semconv.GEN_AI_AGENT_ID, agent_id),
        (semconv.GEN_AI_AGENT_DESCRIPTION, description),
        (semconv.GEN_AI_AGENT_VERSION, version),
        (semconv.GEN_AI_PROVIDER_NAME, provider),
    ):
        if value is not None:
            attrs[key] = _name(value)
    _server(attrs, server_address, server_port)
    return Scope(
        _Spec(
            name=semconv.SPAN_AGENT.format(name),
            operation=semconv.OP_INVOKE_AGENT,
            kind=SpanKind.CLIENT if _flag(remote) else SpanKind.INTERNAL,
            attributes=attrs,
            make_handle=_run_handle,
            run_kind=semconv.RUN_KIND_AGENT,
            agent=name,
        )
    )


def _server(attrs: dict[str, Any], address: str | None, port: int | None) -> None:
    """``server.address`` and, with it, ``server.port`` (conditionally required when an address is set)."""
    if address is None:
        return
    attrs[semconv.SERVER_ADDRESS] = _name(address)
    if isinstance(port, int) and not isinstance(port, bool) and 0 < port < 65536:
        attrs[semconv.SERVER_PORT] = port


def infer_provider(model: str) -> str:
    """``gen_ai.provider.name`` for a model when the caller named none: by well-known model prefix,
    else ``unknown`` (the documented fallback)."""
    lowered = model.lower()
    for prefix, provider in semconv.PROVIDER_BY_MODEL_PREFIX:
        if lowered.startswith(prefix):
            return provider
    return semconv.PROVIDER_UNKNOWN


@_factory(semconv.OP_EXECUTE_TOOL, _tool_handle)
def tool(
    name: str,
    *,
    arguments: object = None,
    call_id: str | None = None,
    tool_type: str = semconv.TOOL_TYPE_FUNCTION,
    description: str | None = None,
) -> Scope[ToolHandle]:
    """A tool call: span ``execute_tool {name}``; arguments summarised unless capture is on."""
    extra: dict[str, Any] | None = None
    if (call_id is not None or arguments is not None) and not _idle():
        extra = {}
        if call_id is not None:
            extra[semconv.GEN_AI_TOOL_CALL_ID] = _name(call_id)
        if arguments is not None:
            if switches.capture_content:
                extra[semconv.GEN_AI_TOOL_CALL_ARGUMENTS] = to_json(arguments)
            else:
                extra[semconv.TOOL_ARGUMENTS_SUMMARY] = summarize(arguments)
    # Only plain strings are cached: a user object's __hash__ or __eq__ may raise, or lie. Cut to
    # what the span keeps first, so the cache holds at most 1024 short names, never a huge one.
    if type(name) is str and type(tool_type) is str and (description is None or type(description) is str):
        spec = _tool_spec(
            name[:MAX_NAME], tool_type[:MAX_NAME], None if description is None else description[:MAX_NAME]
        )
    else:
        spec = _tool_spec.__wrapped__(name, tool_type, description)
    return Scope(spec, extra)


@functools.lru_cache(maxsize=1024)
def _tool_spec(name: object, tool_type: object, description: object) -> _Spec[ToolHandle]:
    """The static part of a tool span; tools are called far more often than they are named."""
    clean = _name(name)
    attrs: dict[str, Any] = {
        semconv.GEN_AI_OPERATION_NAME: semconv.OP_EXECUTE_TOOL,
        semconv.GEN_AI_TOOL_NAME: clean,
        semconv.GEN_AI_TOOL_TYPE: _name(tool_type),
    }
    if description is not None:
        attrs[semconv.GEN_AI_TOOL_DESCRIPTION] = _name(description)
    return _Spec(
        name=semconv.SPAN_TOOL.format(clean),
        operation=semconv.OP_EXECUTE_TOOL,
        kind=SpanKind.INTERNAL,
        attributes=attrs,
        make_handle=_tool_handle,
    )


@_factory(semconv.OP_CHAT, _llm_handle)
def llm(
    model: str,
    *,
    provider: str | None = None,
    operation: str = semconv.OP_CHAT,
    temperature: float | None = None,
    max_tokens: int | None = None,
    stream: bool | None = None,
    server_address: str | None = None,
    server_port: int | None = None,
) -> Scope[LLMHandle]:
    """An LLM call: span ``{operation} {model}`` (kind CLIENT) with usage and cost.

    Without ``provider``, ``gen_ai.provider.name`` is inferred from the model name (``gpt-*`` is
    ``openai``, ``claude*`` is ``anthropic``, ...), else ``unknown``; prices are looked up with
    the provider only when it was given. ``stream=True`` sets ``gen_ai.request.stream``; call
    ``handle.first_chunk()`` when the first chunk arrives.
    """
    model, operation = _name(model), _name(operation)
    given = _name(provider) if provider is not None else None
    attrs: dict[str, Any] = {
        semconv.GEN_AI_OPERATION_NAME: operation,
        semconv.GEN_AI_REQUEST_MODEL: model,
        semconv.GEN_AI_PROVIDER_NAME: given if given is not None else infer_provider(model),
    }
    for key, value in (
        (semconv.GEN_AI_REQUEST_TEMPERATURE, temperature),
        (semconv.GEN_AI_REQUEST_MAX_TOKENS, max_tokens),
    ):
        coerced = to_attribute(value)
        if coerced is not None:
            attrs[key] = coerced
    if isinstance(stream, bool):
        attrs[semconv.GEN_AI_REQUEST_STREAM] = stream
    _server(attrs, server_address, server_port)

    def make(span: Span, chain: tuple[Totals, ...], _: Totals | None) -> LLMHandle:
        return LLMHandle(span, chain, model, given, provider_name=attrs[semconv.GEN_AI_PROVIDER_NAME])

    return Scope(
        _Spec(
            name=semconv.SPAN_LLM.format(operation, model),
            operation=operation,
            kind=SpanKind.CLIENT,
            attributes=attrs,
            make_handle=make,
        )
    )


@_factory(semconv.OP_EMBEDDINGS, _llm_handle)
def embeddings(
    model: str,
    *,
    provider: str | None = None,
    dimension_count: int | None = None,
    encoding_formats: Sequence[str] | None = None,
    server_address: str | None = None,
    server_port: int | None = None,
) -> Scope[LLMHandle]:
    """An embeddings call: span ``embeddings {model}`` (kind CLIENT); usage and cost as for ``llm``."""
    scope = llm(
        model,
        provider=provider,
        operation=semconv.OP_EMBEDDINGS,
        server_address=server_address,
        server_port=server_port,
    )
    attrs = scope._spec.attributes
    if isinstance(dimension_count, int) and not isinstance(dimension_count, bool):
        attrs[semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = dimension_count
    if encoding_formats:
        attrs[semconv.GEN_AI_REQUEST_ENCODING_FORMATS] = [_name(f) for f in encoding_formats]
    return scope


@_factory(semconv.OP_RETRIEVAL, _retrieval_handle)
def retrieval(
    data_source_id: str,
    *,
    provider: str | None = None,
    query: object = None,
    top_k: float | None = None,
    model: str | None = None,
    server_address: str | None = None,
    server_port: int | None = None,
) -> Scope[RetrievalHandle]:
    """A retrieval (vector store, search index): span ``retrieval {data_source_id}`` (kind CLIENT).

    The query text is recorded only when content capture is on, else summarised.
    """
    source = _name(data_source_id)
    attrs: dict[str, Any] = {
        semconv.GEN_AI_OPERATION_NAME: semconv.OP_RETRIEVAL,
        semconv.GEN_AI_DATA_SOURCE_ID: source,
    }
    if provider is not None:
        attrs[semconv.GEN_AI_PROVIDER_NAME] = _name(provider)
    if model is not None:
        attrs[semconv.GEN_AI_REQUEST_MODEL] = _name(model)
    coerced = to_attribute(top_k)
    if isinstance(coerced, (int, float)) and not isinstance(coerced, bool):
        attrs[semconv.GEN_AI_REQUEST_TOP_K] = float(coerced)
    _server(attrs, server_address, server_port)
    extra: dict[str, Any] | None = None
    if query is not None:
        extra = (
            {semconv.GEN_AI_RETRIEVAL_QUERY_TEXT: query if isinstance(query, str) else to_json(query)}
            if switches.capture_content
            else {semconv.RETRIEVAL_QUERY_SUMMARY: summarize(query)}
        )
    return Scope(
        _Spec(
            name=semconv.SPAN_RETRIEVAL.format(source),
            operation=semconv.OP_RETRIEVAL,
            kind=SpanKind.CLIENT,
            attributes=attrs,
            make_handle=_retrieval_handle,
        ),
        extra,
    )


@_factory(semconv.OP_PLAN, _plain_handle)
def plan(agent_name: str | None = None) -> Scope[SpanHandle]:
    """An agent's planning step: span ``plan {agent}`` (kind INTERNAL), the enclosing agent by default."""
    name = _name(agent_name) if agent_name is not None else current_agent()
    attrs: dict[str, Any] = {semconv.GEN_AI_OPERATION_NAME: semconv.OP_PLAN}
    if name is not None:
        attrs[semconv.GEN_AI_AGENT_NAME] = name
    return Scope(
        _Spec(
            name=semconv.SPAN_PLAN.format(name) if name is not None else semconv.OP_PLAN,
            operation=semconv.OP_PLAN,
            kind=SpanKind.INTERNAL,
            attributes=attrs,
            make_handle=_plain_handle,
        )
    )


def route(
    source: str,
    *,
    target: str,
    candidates: Sequence[str] = (),
    reason: str | None = None,
    confidence: float | None = None,
) -> str:
    """Record that ``source`` routed to ``target`` (span ``route {source}``); returns ``target``."""
    with never_raise("api.route"):
        _record_route(source, target, candidates, reason, confidence)
    return target


def _record_route(
    source: str,
    target: str,
    candidates: Sequence[str],
    reason: str | None,
    confidence: float | None,
) -> None:
    source, target = _name(source), _name(target)
    attrs: dict[str, Any] = {semconv.ROUTE_SOURCE: source, semconv.ROUTE_TARGET: target}
    if switches.legacy_route_keys:
        attrs[semconv.LEGACY_ROUTE_SOURCE], attrs[semconv.LEGACY_ROUTE_TARGET] = source, target
    if candidates:
        # Any iterable, even an endless one: at most MAX_SEQUENCE items are read.
        items = (candidates,) if isinstance(candidates, str) else candidates
        attrs[semconv.ROUTE_CANDIDATES] = [_name(c) for c in itertools.islice(items, MAX_SEQUENCE)]
    if reason is not None:
        attrs[semconv.ROUTE_REASON] = _name(reason)
    coerced = to_attribute(confidence)
    if coerced is not None:
        attrs[semconv.ROUTE_CONFIDENCE] = coerced
    span = _tracer().start_span(semconv.SPAN_ROUTE.format(source), attributes={**stamp(), **attrs})
    span.end()
    if switches.log_events and _events.isEnabledFor(logging.INFO):
        _events.info("route %s -> %s", source, target, extra=attrs)
