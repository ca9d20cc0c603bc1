"""``workflow``, ``agent``, ``tool``, ``llm``, ``route``: GenAI spans as context managers and decorators."""

from __future__ import annotations

import asyncio
import functools
import inspect
import itertools
import logging
import traceback
from collections.abc import AsyncGenerator, Callable, Generator, Sequence
from types import TracebackType
from typing import Any, Generic, TypeVar, cast

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import INVALID_SPAN, Span, SpanKind, Status, StatusCode

from otel_agents.api import _semconv as semconv
from otel_agents.api._guard import contained, never_raise
from otel_agents.api._handles import MAX_SEQUENCE, LLMHandle, RunHandle, SpanHandle, ToolHandle, Totals
from otel_agents.api._run_context import rollup_chain, stamp, with_agent, with_rollup
from otel_agents.api._switches import switches
from otel_agents.api._values import summarize, to_attribute, to_json
from otel_agents.api._version import __version__
from otel_agents.api._walk import safe_str

H = TypeVar("H", bound=SpanHandle)
F = TypeVar("F", bound=Callable[..., Any])

# Longest span, agent, tool or model name kept: names become span names and metric labels.
MAX_NAME = 256
_events = logging.getLogger(semconv.EVENT_LOGGER)
_tracer_cache: tuple[trace.TracerProvider, trace.Tracer] | None = None


def _tracer() -> trace.Tracer:
    """The tracer of the provider in force now (tests and ``configure`` may replace it)."""
    global _tracer_cache  # noqa: PLW0603 - a one-slot cache keyed on the provider
    provider = trace.get_tracer_provider()
    cached = _tracer_cache
    if cached is not None and cached[0] is provider:
        return cached[1]
    tracer = provider.get_tracer(semconv.SCOPE_NAME, __version__)
    _tracer_cache = (provider, tracer)
    return tracer


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
            "exception.type": error_type(exc),
            "exception.message": message,
            "exception.stacktrace": stack,
            "exception.escaped": True,
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

    __slots__ = ("ctx", "handle", "span", "spec", "token", "totals")

    def __init__(self, spec: _Spec[H], extra: dict[str, Any] | None = None) -> None:
        self.spec = spec
        self.token: object = None
        self.totals: Totals | None = None
        parent = otel_context.get_current()
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
            self.span = _tracer().start_span(spec.name, context=parent, kind=spec.kind, attributes=attrs)
            ctx = trace.set_span_in_context(self.span, parent)
            if spec.agent is not None:
                ctx = with_agent(spec.agent, ctx)
            if self.totals is not None:
                ctx = with_rollup((*chain, self.totals), ctx)
            self.ctx = ctx
        except Exception as exc:
            if not contained("api.start", exc):
                raise
            self.span = INVALID_SPAN
            self.ctx = parent
            self.totals = None
        self.handle = spec.make_handle(self.span, chain, self.totals)

    def attach(self) -> None:
        self.token = otel_context.attach(self.ctx)

    def detach(self) -> None:
        if self.token is not None:
            # No guard: opentelemetry.context.detach catches and logs its own failures.
            otel_context.detach(cast(Any, self.token))
            self.token = None

    def finish(self, exc: BaseException | None) -> None:
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
                span.end()
            except Exception as error:
                if not contained("api.end", error):
                    raise

    def _roll_up(self, span: Span) -> None:
        handle = self.handle
        if self.totals is not None:
            span.set_attributes(self.totals.attributes())
        if isinstance(handle, ToolHandle):
            cost = handle.cost()
            for totals in handle._chain:
                totals.add_tool(cost)
        elif isinstance(handle, LLMHandle):
            usage = handle.usage()
            ins, outs, cost = usage if usage is not None else (0, 0, None)
            for totals in handle._chain:
                totals.add_llm(ins, outs, cost)

    def _log_event(self, exc: BaseException | None) -> None:
        if not _events.isEnabledFor(logging.INFO):
            return
        status = "error" if exc is not None and not isinstance(exc, GeneratorExit) else "ok"
        _events.info(
            "%s %s",
            self.spec.name,
            status,
            extra={semconv.GEN_AI_OPERATION_NAME: self.spec.operation, "status": status},
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


def _llm_handle(span: Span, chain: tuple[Totals, ...], _: Totals | None) -> LLMHandle:
    return LLMHandle(span, chain, "", None)


def _run_handle(span: Span, chain: tuple[Totals, ...], totals: Totals | None) -> RunHandle:
    return RunHandle(span, chain, totals if totals is not None else Totals())


def _tool_handle(span: Span, chain: tuple[Totals, ...], _: Totals | None) -> ToolHandle:
    return ToolHandle(span, chain)


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


def _fallback(operation: str, span_name: str, make_handle: Callable[..., Any]) -> Scope[Any]:
    """What a factory returns when its arguments could not be used: a span with the static name only."""
    return Scope(
        _Spec(
            name=span_name,
            operation=operation,
            kind=SpanKind.INTERNAL,
            attributes={semconv.GEN_AI_OPERATION_NAME: operation},
            make_handle=make_handle,
        )
    )


def workflow(name: str, *, description: str | None = None) -> Scope[RunHandle]:
    """A multi-step workflow: span ``invoke_workflow {name}``; a run in the local store."""
    try:
        return _workflow(name, description)
    except Exception as exc:
        if not contained("api.workflow", exc):
            raise
        return _fallback(semconv.OP_INVOKE_WORKFLOW, semconv.OP_INVOKE_WORKFLOW, _run_handle)


def _workflow(name: object, description: object) -> Scope[RunHandle]:
    name = _name(name)
    attrs: dict[str, Any] = {
        semconv.GEN_AI_OPERATION_NAME: semconv.OP_INVOKE_WORKFLOW,
        semconv.GEN_AI_WORKFLOW_NAME: name,
    }
    if description is not None:
        attrs[semconv.GEN_AI_AGENT_DESCRIPTION] = _name(description)
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


def agent(
    name: str,
    *,
    agent_id: str | None = None,
    description: str | None = None,
    version: str | None = None,
    remote: bool = False,
) -> Scope[RunHandle]:
    """An agent run: span ``invoke_agent {name}``; every span inside carries the agent's name."""
    try:
        return _agent(name, agent_id, description, version, remote)
    except Exception as exc:
        if not contained("api.agent", exc):
            raise
        return _fallback(semconv.OP_INVOKE_AGENT, semconv.OP_INVOKE_AGENT, _run_handle)


def _agent(
    name: object, agent_id: object, description: object, version: object, remote: object
) -> Scope[RunHandle]:
    name = _name(name)
    attrs: dict[str, Any] = {
        semconv.GEN_AI_OPERATION_NAME: semconv.OP_INVOKE_AGENT,
        semconv.GEN_AI_AGENT_NAME: name,
    }
    for key, value in (
        (semconv.GEN_AI_AGENT_ID, agent_id),
        (semconv.GEN_AI_AGENT_DESCRIPTION, description),
        (semconv.GEN_AI_AGENT_VERSION, version),
    ):
        if value is not None:
            attrs[key] = _name(value)
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


def tool(
    name: str,
    *,
    arguments: object = None,
    call_id: str | None = None,
    tool_type: str = semconv.TOOL_TYPE_FUNCTION,
    description: str | None = None,
) -> Scope[ToolHandle]:
    """A tool call: span ``execute_tool {name}``; arguments summarised unless capture is on."""
    try:
        return _tool(name, arguments, call_id, tool_type, description)
    except Exception as exc:
        if not contained("api.tool", exc):
            raise
        return _fallback(semconv.OP_EXECUTE_TOOL, semconv.OP_EXECUTE_TOOL, _tool_handle)


def _tool(
    name: object, arguments: object, call_id: object, tool_type: object, description: object
) -> Scope[ToolHandle]:
    extra: dict[str, Any] | None = None
    if call_id is not None or arguments is not None:
        extra = {}
        if call_id is not None:
            extra[semconv.GEN_AI_TOOL_CALL_ID] = _name(call_id)
        if arguments is not None:
            if switches.capture_content:
                extra[semconv.GEN_AI_TOOL_CALL_ARGUMENTS] = to_json(arguments)
            else:
                extra[semconv.TOOL_ARGUMENTS_SUMMARY] = summarize(arguments)
    # Only plain strings are cached: a user object's __hash__ or __eq__ may raise, or lie.
    if type(name) is str and type(tool_type) is str and (description is None or type(description) is str):
        spec = _tool_spec(name, tool_type, description)
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


def llm(
    model: str,
    *,
    provider: str | None = None,
    operation: str = semconv.OP_CHAT,
    temperature: float | None = None,
    max_tokens: int | None = None,
) -> Scope[LLMHandle]:
    """An LLM call: span ``{operation} {model}`` (kind CLIENT) with usage and cost."""
    try:
        return _llm(model, provider, operation, temperature, max_tokens)
    except Exception as exc:
        if not contained("api.llm", exc):
            raise
        return _fallback(semconv.OP_CHAT, semconv.OP_CHAT, _llm_handle)


def _llm(
    model: object, provider: object, operation: object, temperature: object, max_tokens: object
) -> Scope[LLMHandle]:
    model, operation = _name(model), _name(operation)
    provider = _name(provider) if provider is not None else None
    attrs: dict[str, Any] = {
        semconv.GEN_AI_OPERATION_NAME: operation,
        semconv.GEN_AI_REQUEST_MODEL: model,
    }
    if provider is not None:
        attrs[semconv.GEN_AI_PROVIDER_NAME] = provider
    for key, value in (
        (semconv.GEN_AI_REQUEST_TEMPERATURE, temperature),
        (semconv.GEN_AI_REQUEST_MAX_TOKENS, max_tokens),
    ):
        coerced = to_attribute(value)
        if coerced is not None:
            attrs[key] = coerced

    def make(span: Span, chain: tuple[Totals, ...], _: Totals | None) -> LLMHandle:
        return LLMHandle(span, chain, model, provider)

    return Scope(
        _Spec(
            name=semconv.SPAN_LLM.format(operation, model),
            operation=operation,
            kind=SpanKind.CLIENT,
            attributes=attrs,
            make_handle=make,
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
