"""The ASGI request-id middleware in-process: hostile scopes never raise, an app's own id is kept."""

from __future__ import annotations

import asyncio
import re
from collections.abc import MutableMapping
from typing import Any

from otel_agents.integrations.fastapi import RequestIdMiddleware

Message = dict[str, Any]


def _call(app: Any, scope: dict[str, Any]) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    asyncio.run(RequestIdMiddleware(app)(scope, receive, send))
    return sent


def _headers(sent: list[Message]) -> list[tuple[bytes, bytes]]:
    return [(h[0], h[1]) for h in sent[0]["headers"] if h[0].lower() == b"x-request-id"]


async def _plain(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def _own_id(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"X-Request-ID", b"app-chosen")]})
    await send({"type": "http.response.body", "body": b"ok"})


def test_app_set_request_id_is_kept() -> None:
    """When the app already set X-Request-ID, the response carries only the app's value."""
    sent = _call(_own_id, {"type": "http", "headers": [(b"x-request-id", b"incoming-1")]})
    assert _headers(sent) == [(b"X-Request-ID", b"app-chosen")]


def test_incoming_id_is_returned() -> None:
    """A well-formed incoming X-Request-ID is returned on the response."""
    sent = _call(_plain, {"type": "http", "headers": [(b"X-Request-Id", b"incoming-2")]})
    assert _headers(sent) == [(b"x-request-id", b"incoming-2")]


def test_hostile_scopes_never_raise(lenient: None) -> None:
    """Header lists with wrong types or shapes, or none at all, still get a response with a fresh id."""
    for headers in ([("x-request-id", "str-not-bytes")], [(b"x-request-id",)], None, [(1, 2)]):
        scope: dict[str, Any] = {"type": "http"}
        if headers is not None:
            scope["headers"] = headers
        sent = _call(_plain, scope)
        assert sent[1]["body"] == b"ok"
        ((_, value),) = _headers(sent)
        assert re.fullmatch(rb"[0-9a-f]{32}", value), value


def test_non_http_scopes_pass_through() -> None:
    """Lifespan and websocket scopes reach the app untouched."""
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    _call(app, {"type": "lifespan"})
    assert seen == ["lifespan"]
