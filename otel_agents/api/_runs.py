"""Explicit runs: ``start_run`` opens a run span kept by id, ``end_run`` ends it from any other call."""

from __future__ import annotations

import atexit
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Final

from opentelemetry import baggage
from opentelemetry import context as otel_context

from otel_agents.api import _counters as stats
from otel_agents.api import _semconv as semconv
from otel_agents.api._guard import never_raise
from otel_agents.api._handles import RunHandle
from otel_agents.api._run_context import MAX_BAGGAGE_VALUE, with_stamp
from otel_agents.api._spans import Scope, _Active, agent, workflow
from otel_agents.api._values import to_attribute, to_json

__all__ = ["MAX_OPEN_RUNS", "Run", "end_run", "get_run", "open_runs", "start_run"]

# Each open run holds one live span; past this many the oldest is ended as "abandoned" and counted.
MAX_OPEN_RUNS: Final = 4096
DROP_EVICTED: Final = "runs.evicted"
KINDS: Final = (semconv.RUN_KIND_WORKFLOW, semconv.RUN_KIND_AGENT)

_lock = threading.Lock()
_open: OrderedDict[str, Run] = OrderedDict()
_atexit_registered = False


class Run:
    """One explicitly started run: its id, its handle, and ``end()`` callable from anywhere once."""

    __slots__ = ("_active", "_ended", "_lock", "run_id")

    def __init__(self, run_id: str, active: _Active[RunHandle]) -> None:
        self.run_id = run_id
        self._active = active
        self._ended = False
        self._lock = threading.Lock()

    @property
    def handle(self) -> RunHandle:
        """The run's handle: set_input, set_result, set_items, set_metrics, set_metadata, set_status."""
        return self._active.handle

    @property
    def ended(self) -> bool:
        """True once ``end()`` ran."""
        return self._ended

    @contextmanager
    def activate(self) -> Iterator[RunHandle]:
        """Make the run current inside the block: spans started there are its children."""
        token = otel_context.attach(self._active.ctx)
        try:
            yield self._active.handle
        finally:
            otel_context.detach(token)

    @never_raise("api.run.log_event")
    def log_event(self, event_type: str, payload: object = None) -> None:
        """Record a timestamped event on the run span: its type as the name, the payload as JSON."""
        name = event_type if isinstance(event_type, str) and event_type else "event"
        attrs = {}
        if payload is not None:
            attrs[semconv.RUN_EVENT_PAYLOAD] = to_json(payload)
        self._active.span.add_event(name[:MAX_BAGGAGE_VALUE], attrs)

    def end(self, status: str | None = None, error: BaseException | None = None) -> bool:
        """End the run with an optional custom status or exception; False if it had already ended."""
        with self._lock:
            if self._ended:
                return False
            self._ended = True
        with _lock:
            if _open.get(self.run_id) is self:
                del _open[self.run_id]
        with never_raise("api.run.end"):
            if status is not None:
                self._active.handle.set_status(status)
            elif error is not None:
                self._active.handle.set_status(semconv.RUN_STATUS_ERROR)
        self._active.finish(error)
        return True


def start_run(
    name: str,
    *,
    kind: str = semconv.RUN_KIND_WORKFLOW,
    run_id: str | None = None,
    session_id: str | None = None,
    user_id: str | None = None,
    attributes: Mapping[str, object] | None = None,
) -> Run:
    """Open a workflow (or agent) run span that stays open until ``end_run(run.run_id)``.

    The run id is generated unless given; spans started inside ``with run.activate():`` and every
    ``oa.run_context(run_id=...)`` block elsewhere carry it.
    """
    rid = _clean_id(run_id) or uuid.uuid4().hex
    ctx = otel_context.get_current()
    ids: tuple[tuple[str, str | None], ...] = (
        (semconv.RUN_ID, rid),
        (semconv.SESSION_ID, _clean_id(session_id)),
        (semconv.USER_ID, _clean_id(user_id)),
    )
    for key, value in ids:
        if value is not None:
            ctx = baggage.set_baggage(key, value, ctx)
    scope: Scope[RunHandle] = agent(name) if kind == semconv.RUN_KIND_AGENT else workflow(name)
    extra: dict[str, object] = {}
    with never_raise("api.run.attributes"):
        for name_, given in (attributes or {}).items():
            coerced = to_attribute(given)
            if coerced is not None:
                extra[str(name_)] = coerced
    token = otel_context.attach(with_stamp(ctx))
    try:
        active = _Active(scope._spec, {**(scope._extra or {}), **extra})
    finally:
        otel_context.detach(token)
    run = Run(rid, active)
    _register(run)
    return run


def end_run(run_id: str, *, status: str | None = None, error: BaseException | None = None) -> bool:
    """End the open run ``run_id`` (see ``Run.end``); False when no such run is open."""
    run = get_run(run_id)
    return run.end(status, error) if run is not None else False


def get_run(run_id: str) -> Run | None:
    """The open run with this id, if any."""
    with _lock:
        return _open.get(run_id) if isinstance(run_id, str) else None


def open_runs() -> int:
    """How many runs are open now."""
    with _lock:
        return len(_open)


def _clean_id(value: object) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text[:MAX_BAGGAGE_VALUE] or None


def _register(run: Run) -> None:
    global _atexit_registered  # noqa: PLW0603 - once per process, after configure() registered its own
    evicted: list[Run] = []
    with _lock:
        previous = _open.pop(run.run_id, None)
        if previous is not None:
            evicted.append(previous)
        _open[run.run_id] = run
        while len(_open) > MAX_OPEN_RUNS:
            evicted.append(_open.popitem(last=False)[1])
        if not _atexit_registered:
            _atexit_registered = True
            # Registered after configure(): atexit runs it first, so the spans still reach the exporters.
            atexit.register(_end_all)
    for old in evicted:
        stats.count_drop(DROP_EVICTED)
        old.end(semconv.RUN_STATUS_ABANDONED)


def _end_all() -> None:
    """At exit: end every run still open as "abandoned", so it is exported rather than lost."""
    with _lock:
        left = list(_open.values())
    for run in left:
        run.end(semconv.RUN_STATUS_ABANDONED)
