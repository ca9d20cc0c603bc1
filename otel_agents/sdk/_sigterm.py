"""Flush telemetry when SIGTERM would otherwise end the process without running ``atexit`` handlers."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Final

from otel_agents.api._guard import never_raise
from otel_agents.api._threads import start_daemon

if TYPE_CHECKING:
    from otel_agents.sdk._configure import Telemetry

Handler = Callable[[int, FrameType | None], None]

# CPython runs a Python signal handler only when the main thread next checks for signals. A SIGTERM
# whose C-level handler ran just before the main thread entered a blocking call (a sleep, a read),
# or on another thread, then waits until that call returns: the process would outlive SIGTERM by
# as long as it sleeps. A watcher thread learns of each signal from the wakeup fd and, while our
# handler has not started, re-sends SIGTERM to the main thread, which interrupts the blocking call.
_FIRST_NUDGE_S: Final = 0.05
_MAX_NUDGES: Final = 8
_started = threading.Event()
_pipe: tuple[int, int] | None = None
# The handler the watcher nudges for: the latest one installed (a reconfigured process installs anew).
_ours: Handler | None = None


def flush_on_sigterm(telemetry: Telemetry) -> bool:
    """Shut ``telemetry`` down (bounded) on SIGTERM, then die by SIGTERM as before; True if installed.

    Only when nobody handles SIGTERM yet (the default action skips ``atexit``). Servers that take
    SIGTERM over and later restore the previous handler and re-raise it (uvicorn does) reach this
    handler after their own graceful shutdown.
    """
    if threading.current_thread() is not threading.main_thread():
        return False
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return False

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        _started.set()
        with never_raise("signals.sigterm"):
            telemetry.shutdown()
        signal.signal(signum, signal.SIG_DFL)
        signal.raise_signal(signum)

    global _ours  # noqa: PLW0603 - one SIGTERM handler per process
    _started.clear()
    _ours = on_sigterm
    signal.signal(signal.SIGTERM, on_sigterm)
    with never_raise("signals.watch"):
        _watch()
    return True


def _watch() -> None:
    """Start the watcher, unless the wakeup fd is someone else's (asyncio's loop watches it then)."""
    global _pipe  # noqa: PLW0603 - one wakeup fd per process
    if _pipe is not None or not hasattr(signal, "pthread_kill") or not hasattr(os, "pipe2"):
        return
    read_fd, write_fd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    os.set_blocking(read_fd, True)
    previous = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    if previous != -1:
        signal.set_wakeup_fd(previous)
        os.close(read_fd)
        os.close(write_fd)
        return
    _pipe = (read_fd, write_fd)
    main = threading.main_thread().ident
    assert main is not None
    start_daemon(lambda: _nudge_until_handled(read_fd, main), "otel-agents-sigterm")


def _nudge_until_handled(read_fd: int, main: int) -> None:
    """Read the signals the process caught; after a SIGTERM, nudge the main thread until our handler runs."""
    nudges = 0
    while True:
        try:
            caught = os.read(read_fd, 512)
        except OSError:
            return
        if not caught:
            return
        wait = _FIRST_NUDGE_S
        while signal.SIGTERM in caught and nudges < _MAX_NUDGES:
            time.sleep(wait)
            if _started.is_set() or signal.getsignal(signal.SIGTERM) is not _ours:
                break
            signal.pthread_kill(main, signal.SIGTERM)
            nudges += 1
            wait *= 2


def _forget_in_child() -> None:
    """A forked child has no watcher: its signals must not reach the parent's through the shared pipe."""
    global _pipe  # noqa: PLW0603 - one wakeup fd per process
    if _pipe is None:
        return
    read_fd, write_fd = _pipe
    _pipe = None
    _started.clear()
    try:
        previous = signal.set_wakeup_fd(-1)
        if previous != write_fd:
            signal.set_wakeup_fd(previous)
        os.close(write_fd)
    except ValueError:
        # Forked from a thread, the wakeup fd cannot be unset here. Closing it could let the app
        # reuse its number for a file that signals would then write to: point it at a pipe of the
        # child's own that nobody reads (once full, CPython drops the bytes).
        private_read, private_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        os.dup2(private_write, write_fd, inheritable=False)
        os.close(private_write)
        del private_read  # kept open: a closed read end would make every signal's write fail loudly
    with contextlib.suppress(OSError):
        os.close(read_fd)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)
