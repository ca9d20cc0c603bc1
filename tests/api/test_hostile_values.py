"""Hostile values through every public entry point: no exception from otel-agents ever reaches user code."""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

import otel_agents as oa
from otel_agents.api import _semconv as semconv
from otel_agents.api._logs import TraceContextFilter, log_context, structlog_processor


class Boom(Exception):
    """What every hostile dunder raises."""


def _boom(*args: object, **kwargs: object) -> Any:
    raise Boom("hostile")


class RaisingStr:
    __str__ = __repr__ = __format__ = _boom


class RaisingEq:
    __eq__ = __hash__ = _boom  # type: ignore[assignment]


class RaisingBool:
    __bool__ = __len__ = _boom


class RaisingIter:
    __iter__ = __len__ = _boom


class HostileStr(str):
    __format__ = __hash__ = __len__ = __eq__ = __str__ = __repr__ = __iter__ = __getitem__ = _boom  # type: ignore[assignment]


class HostileInt(int):
    __le__ = __ge__ = __lt__ = __gt__ = __str__ = __repr__ = __index__ = __hash__ = __float__ = _boom  # type: ignore[assignment]


class HostileFloat(float):
    __le__ = __ge__ = __str__ = __repr__ = __hash__ = _boom  # type: ignore[assignment]


class HostileList(list):  # type: ignore[type-arg]
    __iter__ = __len__ = __getitem__ = __bool__ = _boom  # type: ignore[assignment]


class HostileMapping(Mapping[str, Any]):
    __getitem__ = __iter__ = __len__ = items = keys = values = _boom  # type: ignore[assignment]


def _recursive() -> list[Any]:
    loop: list[Any] = [1]
    loop.append(loop)
    return loop


def _deep() -> dict[str, Any]:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(5000):
        node["d"] = {}
        node = node["d"]
    return deep


HOSTILE: dict[str, Callable[[], Any]] = {
    "raising_str": RaisingStr,
    "raising_eq_hash": RaisingEq,
    "raising_bool_len": RaisingBool,
    "raising_iter": RaisingIter,
    "str_subclass": lambda: HostileStr("name"),
    "int_subclass": lambda: HostileInt(7),
    "float_subclass": lambda: HostileFloat(0.5),
    "list_subclass": lambda: HostileList([1, 2]),
    "hostile_mapping": HostileMapping,
    "huge_int": lambda: 10**5000,
    "nan": lambda: math.nan,
    "inf": lambda: -math.inf,
    "recursive": _recursive,
    "deep": _deep,
    "bytes": lambda: b"\x00\xff" * 10,
    "bytearray": lambda: bytearray(b"abc"),
    "endless_iterator": lambda: itertools.count(),
    "lone_surrogate": lambda: "\ud800 broken",
    "huge_str": lambda: "x" * 2_000_000,
    "none": lambda: None,
    "callable": lambda: _boom,
}


def _spans(h: Any) -> Iterator[Callable[[], None]]:
    """Every way user code hands ``h`` to the API, each as a thunk."""

    def run(scope: Any, use: Callable[[Any], None] = lambda handle: None) -> Callable[[], None]:
        def thunk() -> None:
            with scope() as handle:
                use(handle)

        return thunk

    yield run(lambda: oa.workflow(h))
    yield run(lambda: oa.workflow("w", description=h))
    yield run(lambda: oa.agent(h))
    yield run(lambda: oa.agent("a", agent_id=h, description=h, version=h, remote=h))
    yield run(lambda: oa.tool(h))
    yield run(lambda: oa.tool("t", arguments=h, call_id=h, tool_type=h, description=h))
    yield run(lambda: oa.tool(h, description=h))
    yield run(lambda: oa.llm(h))
    yield run(lambda: oa.llm("m", provider=h, operation=h, temperature=h, max_tokens=h))
    yield run(lambda: oa.run_context(run_id=h, session_id=h, user_id=h, request_id=h))
    yield lambda: oa.route(h, target=h, candidates=h, reason=h, confidence=h)
    yield lambda: oa.route("a", target="b", candidates=[h, h])

    def every_setter(handle: Any) -> None:
        handle.set_attribute(h, h)
        handle.set_attribute("k", h)
        handle.add_event(h, {"k": h})
        handle.add_event("e", h)
        handle.set_input(h)
        handle.set_result(h)
        handle.set_items(discovered=h, succeeded=h, failed=h)
        handle.set_metrics(h)
        handle.set_metrics({"m": h})
        handle.set_metadata(product=h)

    yield run(lambda: oa.workflow("w"), every_setter)
    yield run(lambda: oa.agent("a"), every_setter)

    def tool_setters(handle: Any) -> None:
        handle.set_result(h)
        handle.set_attribute(h, [h, h])

    yield run(lambda: oa.tool("t"), tool_setters)

    def llm_setters(handle: Any) -> None:
        handle.record_usage(
            input_tokens=h,
            output_tokens=h,
            cache_read_input_tokens=h,
            cache_creation_input_tokens=h,
            reasoning_output_tokens=h,
            cost_usd=h,
        )
        handle.set_response(model=h, response_id=h, finish_reasons=h)
        handle.set_messages(input=h, output=h)

    yield run(lambda: oa.llm("m"), llm_setters)

    def decorated() -> None:
        @oa.tool(h, arguments=h)
        def f(x: Any) -> Any:
            return x

        assert f(h) is h

        @oa.agent(h)
        def g() -> Iterator[Any]:
            yield h

        assert list(g()) == [h]

        @oa.workflow(h)
        async def co() -> Any:
            return h

        assert asyncio.run(co()) is h
        oa.tool("t")(h)  # decorating a non-function leaves it (or a wrapper) without raising

    yield decorated

    def logs() -> None:
        # pytest's own capture handler would format the records and raise: only ours stay attached.
        root = logging.getLogger()
        theirs = [x for x in root.handlers if type(x).__module__.startswith("_pytest")]
        for handler in theirs:
            root.removeHandler(handler)
        try:
            _log_hostile(h)
        finally:
            for handler in theirs:
                root.addHandler(handler)

    yield logs


def _log_hostile(h: Any) -> None:
    log = logging.getLogger("hostile.app")
    calls: list[Callable[[], object]] = [
        lambda: log.warning("value %s", h),
        lambda: log.warning(h),
        lambda: log.warning("extra", extra={"ctx": h, "nested": {"k": h}}),
        log_context,
        lambda: structlog_processor(h, h, {"event": h, "k": h}),
        lambda: TraceContextFilter().filter(logging.LogRecord("n", logging.INFO, "p", 1, h, (h,), None)),
    ]
    root = logging.getLogger()
    ours = [x for x in root.handlers if type(x).__module__.startswith("otel_agents")]
    for call in calls:
        # Where the stdlib itself raises (LogRecord takes len() of a lone Mapping argument), the
        # exception is not ours to prevent: only calls that succeed without otel-agents count.
        for handler in ours:
            root.removeHandler(handler)
        try:
            call()
        except Exception:
            continue
        finally:
            for handler in ours:
                root.addHandler(handler)
        call()


@pytest.mark.parametrize("capture", [False, True])
@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_no_exception_reaches_user_code(make_pipeline: Any, lenient: None, kind: str, capture: bool) -> None:
    """Every entry point takes a hostile value without raising, and telemetry keeps working after."""
    captured = make_pipeline(capture_content=capture)
    for thunk in _spans(HOSTILE[kind]()):
        thunk()
    with oa.tool("after") as t:
        t.set_attribute("ok", 1)
    assert captured.span("execute_tool after").attributes["ok"] == 1


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_user_exceptions_with_hostile_messages_propagate_unchanged(
    pipeline: Any, lenient: None, kind: str
) -> None:
    """A user exception whose ``__str__`` raises leaves the block as itself, recorded on the span."""

    class UserError(Exception):
        __str__ = __repr__ = _boom

    with pytest.raises(UserError), oa.tool("t"):
        raise UserError(HOSTILE[kind]())
    assert pipeline.span("execute_tool t").status.status_code.name == "ERROR"


@pytest.mark.parametrize(
    "kind", ["raising_str", "raising_eq_hash", "str_subclass", "huge_int", "hostile_mapping"]
)
def test_configure_with_hostile_values_fails_loudly_and_cleanly(make_pipeline: Any, kind: str) -> None:
    """A hostile configure() argument is either used as text or refused with a plain ValueError naming
    the option, never with the hostile object's own exception."""
    try:
        captured = make_pipeline(service_name=HOSTILE[kind]())
    except (ValueError, TypeError) as exc:
        assert "service_name" in str(exc)
    else:
        assert type(captured.telemetry.options.service_name) is str


def test_hostile_names_still_name_the_span(pipeline: Any, lenient: None) -> None:
    """A str subclass with a raising ``__format__`` names its span as plain text; an unhashable tool
    name is used uncached; a huge-int run id is stamped as its size."""
    with oa.run_context(run_id=10**5000), oa.tool(HostileStr("lookup")), oa.agent("a", remote=RaisingBool()):
        pass
    with oa.tool(RaisingEq()):
        pass
    span = pipeline.span("execute_tool lookup")
    assert span.attributes[semconv.RUN_ID] == "<int of 16610 bits>"
    assert pipeline.span("invoke_agent a").kind.name == "INTERNAL"
    assert [s.name for s in pipeline.spans() if "RaisingEq object" in s.name]
