"""Flush telemetry when SIGTERM would otherwise end the process without running ``atexit`` handlers."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import TYPE_CHECKING

from otel_agents.api._guard import never_raise

if TYPE_CHECKING:
    from otel_agents.sdk._configure import Telemetry


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
        with never_raise("signals.sigterm"):
            telemetry.shutdown()
        signal.signal(signum, signal.SIG_DFL)
        signal.raise_signal(signum)

    signal.signal(signal.SIGTERM, on_sigterm)
    return True
