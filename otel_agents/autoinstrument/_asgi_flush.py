"""Export at ASGI lifespan shutdown, the last moment uvicorn gives an app before it re-raises SIGTERM."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from otel_agents.api._guard import never_raise

_Message = MutableMapping[str, Any]
_FLAG = "_otel_agents_lifespan_flush"


def flush_at_lifespan_shutdown() -> bool:
    """Make every contrib-instrumented ASGI app flush the pipeline before it reports its lifespan
    shutdown complete; True if installed.

    uvicorn (alone, with ``--workers`` or as a gunicorn worker) ends by restoring the SIGTERM
    handler it found and raising SIGTERM again. In a gunicorn UvicornWorker that handler is the
    default action, so neither atexit nor our SIGTERM hook runs: lifespan shutdown is the one
    hook left, and it comes after the last request has finished.
    """
    try:
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
    except ImportError:
        return False
    original = OpenTelemetryMiddleware.__call__
    if getattr(original, _FLAG, False):
        return True

    async def call(
        self: Any, scope: _Message, receive: Any, send: Callable[[_Message], Awaitable[None]]
    ) -> None:
        if scope.get("type") != "lifespan":
            await original(self, scope, receive, send)
            return

        async def send_after_flush(message: _Message) -> None:
            if message.get("type") in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
                with never_raise("asgi.lifespan_flush"):
                    from otel_agents.sdk._configure import current

                    telemetry = current()
                    if telemetry is not None:
                        await asyncio.to_thread(telemetry.force_flush)
            await send(message)

        await original(self, scope, receive, send_after_flush)

    setattr(call, _FLAG, True)
    OpenTelemetryMiddleware.__call__ = call  # type: ignore[method-assign]
    return True
