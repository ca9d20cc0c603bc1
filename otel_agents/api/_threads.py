"""Our background threads never take the process's signals: SIGTERM and SIGINT stay with the main thread."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Final

# A signal the kernel hands to one of our threads instead of the main thread does not interrupt the
# main thread's sleep or wait, so the handler (our SIGTERM flush, the app's own) would run late or
# never. Threads inherit the creating thread's mask, so they are started with these blocked.
_SIGNALS: Final = frozenset(
    s for s in (getattr(signal, name, None) for name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT")) if s
)


@contextlib.contextmanager
def signals_blocked() -> Iterator[None]:
    """Within the block, this thread (and every thread it starts) does not receive the signals."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    try:
        yield
    finally:
        # Unblocking delivers any signal that arrived meanwhile, to this thread or the main one.
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


# Items a background thread works through between two hand-overs of the GIL (see let_others_run),
# at first; at most this many once the threads it hands over to keep it (see Pacer).
YIELD_EVERY: Final = 16
YIELD_EVERY_MAX: Final = 512
# A hand-over that took this long went to a thread that ran until the switch interval forced it
# out; one this short, to none, or to one that soon blocked (a request's).
_HOGGED_S: Final = 0.004
_QUICK_S: Final = 0.0005
# Work between two hand-overs, at least. A hand-over sleeps as long as the kernel's timer slack
# (sleep(0) took 60-100 us here): one every 16 spans kept the chain's thread asleep for a third of
# its time, which a flush waits out; a request now waits at most about this long for the GIL.
SLICE_S: Final = 0.0005


def let_others_run() -> None:
    """Hand the GIL to any thread waiting for it (a request's), now.

    A background thread working through a batch keeps the GIL until the interpreter's switch
    interval (5 ms) forces it out: every request that becomes ready meanwhile waits that long, which
    was the web benches' p99 at one connection. A sleep(0) releases it at once; it costs a system
    call and a sleep of the kernel's timer slack, in which the waiting thread takes the GIL (a bare
    release, sched_yield or a zero select, is retaken before a thread on another core wakes)."""
    time.sleep(0)


class Pacer:
    """Hands the GIL over every few items a thread works through, once it has worked a slice
    (``SLICE_S``) since the last hand-over or the start of its run: half as often after each
    hand-over to a thread that kept it for a whole switch interval (one that never blocks: letting
    it run more would only starve this one), and back towards the first pace after quick ones (a
    request thread gives it back within a millisecond). One per worker thread, kept across batches."""

    __slots__ = ("_every", "_first", "_left", "_since")

    def __init__(self, every: int = YIELD_EVERY) -> None:
        self._first = every
        self._every = every
        self._left = every
        self._since = 0.0

    def begin(self) -> None:
        """Start a run of work (a batch after a wait): the first hand-over is a slice away."""
        self._since = time.perf_counter()
        self._left = self._every

    def step(self) -> None:
        """Count one item done; every so many, hand the GIL over if a slice of work has passed."""
        self._left -= 1
        if self._left > 0:
            return
        self._left = self._every
        start = time.perf_counter()
        if start - self._since < SLICE_S:
            return
        let_others_run()
        self._since = time.perf_counter()
        took = self._since - start
        if took > _HOGGED_S:
            self._every = min(self._every * 2, YIELD_EVERY_MAX)
        elif took < _QUICK_S:
            self._every = max(self._every // 2, self._first)
        self._left = self._every


def start_daemon(target: Callable[..., Any], name: str) -> threading.Thread:
    """Start a daemon thread named ``name`` running ``target``, with the process signals blocked."""
    thread = threading.Thread(target=target, name=name, daemon=True)
    with signals_blocked():
        thread.start()
    return thread
