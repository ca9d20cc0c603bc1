"""The UI's ASGI app (Starlette): read-only routes over the store, token check, error pages."""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from otel_agents.store import _queries as queries
from otel_agents.ui import _pages
from otel_agents.ui._data import StoreUnavailable, read_only

_log = logging.getLogger("otel_agents.ui")
TOKEN_COOKIE: Final = "otel_agents_ui_token"  # noqa: S105 - the cookie's name, not a secret
RUNS_LIMIT: Final = 50
MAX_LIMIT: Final = 1000
LOOPBACK_HOSTS: Final = ("127.0.0.1", "localhost", "::1")
# Everything is served from this origin; inline SVG needs no script; no framing, no outside fetch.
_CSP: Final = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_STATIC: Final = {"ui.css": "text/css; charset=utf-8", "poll.js": "text/javascript; charset=utf-8"}

Handler = Callable[[Request], Awaitable[Response]]


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status)


def create_app(  # noqa: PLR0915 - the routes share the store and token of one app
    home: Path, *, token: str | None = None, allowed_hosts: list[str] | None = None
) -> Starlette:
    """The read-only UI over the store at ``home``.

    ``token``: required on every request (``Authorization: Bearer``, the ``token`` query parameter
    once, then a cookie). ``allowed_hosts``: the Host headers accepted (loopback names by default,
    which also stops DNS-rebinding pages from reading the store through the browser).
    """
    home = Path(home).expanduser()

    def page(render: Callable[[Any, Request], str]) -> Handler:
        async def endpoint(request: Request) -> Response:
            from starlette.concurrency import run_in_threadpool

            def work() -> Response:
                try:
                    with read_only(home) as conn:
                        return _html(render(conn, request))
                except _pages.NotFound as exc:
                    return _html(_pages.message_page("Not found", str(exc)), 404)
                except queries.AmbiguousId as exc:
                    return _html(_pages.message_page("Ambiguous id", str(exc)), 400)
                except StoreUnavailable as exc:
                    return _html(_pages.message_page("Store unavailable", str(exc)), 503)

            return await run_in_threadpool(work)

        return endpoint

    def runs(conn: Any, request: Request) -> str:
        return _pages.runs_page(conn, request.query_params, _limit(request))

    def runs_fragment(conn: Any, request: Request) -> str:
        return _pages.run_rows(
            queries.runs(conn, _pages.run_filter(request.query_params), limit=_limit(request))
        )

    def run_page(conn: Any, request: Request) -> str:
        run_id = request.path_params["run_id"]
        trace_ids = queries.run_trace_ids(conn, run_id)
        if not trace_ids:
            raise _pages.NotFound(f"no run {run_id!r} in the store")
        return _pages.traces_page(conn, f"run {run_id}", trace_ids)

    def trace_page(conn: Any, request: Request) -> str:
        ident = request.path_params["trace_id"]
        trace_id = queries.resolve_trace(conn, ident) if _is_hex(ident) else None
        if trace_id is None:
            raise _pages.NotFound(f"no trace {ident!r} in the store")
        return _pages.traces_page(conn, f"trace {trace_id}", [trace_id])

    def graph(conn: Any, request: Request) -> str:
        return _pages.graph_page(conn, request.query_params)

    def stats(conn: Any, request: Request) -> str:
        return _pages.stats_page(conn, request.query_params, time.time_ns())

    async def search(request: Request) -> Response:
        q = request.query_params.get("q", "").strip()
        if not q:
            return RedirectResponse("/", status_code=303)

        from starlette.concurrency import run_in_threadpool

        def find() -> Response:
            try:
                with read_only(home) as conn:
                    if _is_hex(q):
                        try:
                            trace_id = queries.resolve_trace(conn, q)
                        except queries.AmbiguousId as exc:
                            return _html(_pages.message_page("Ambiguous id", str(exc)), 400)
                        if trace_id is not None and trace_id.startswith(q.lower()):
                            return RedirectResponse(f"/trace/{trace_id}", status_code=303)
                    if queries.run_trace_ids(conn, q):
                        return RedirectResponse(f"/run/{quote(q, safe='')}", status_code=303)
            except StoreUnavailable as exc:
                return _html(_pages.message_page("Store unavailable", str(exc)), 503)
            return _html(_pages.message_page("Not found", f"no trace or run {q!r} in the store"), 404)

        return await run_in_threadpool(find)

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in _STATIC:
            return _html(_pages.message_page("Not found", f"no file {name!r}"), 404)
        data = resources.files("otel_agents.ui").joinpath("static").joinpath(name).read_bytes()
        return Response(data, media_type=_STATIC[name], headers={"Cache-Control": "max-age=300"})

    async def not_found(request: Request, exc: Exception) -> Response:
        return _html(_pages.message_page("Not found", f"no page {request.url.path!r}"), 404)

    async def server_error(request: Request, exc: Exception) -> Response:
        # A bug of ours: one line in the server log, a page without a traceback in the browser.
        _log.error("otel-agents ui: %s on %s: %s", type(exc).__name__, request.url.path, exc)
        return _html(_pages.message_page("Something went wrong", f"{type(exc).__name__}: {exc}"), 500)

    routes = [
        Route("/", page(runs)),
        Route("/fragment/runs", page(runs_fragment)),
        Route("/run/{run_id:path}", page(run_page)),
        Route("/trace/{trace_id}", page(trace_page)),
        Route("/graph", page(graph)),
        Route("/stats", page(stats)),
        Route("/search", search),
        Route("/static/{name}", static),
    ]

    hosts = frozenset(allowed_hosts or LOOPBACK_HOSTS)

    async def guard(request: Request, call_next: Handler) -> Response:
        if "*" not in hosts and _host_name(request.headers.get("host", "")) not in hosts:
            return PlainTextResponse("Invalid host header", status_code=400)
        if request.method not in ("GET", "HEAD"):
            return PlainTextResponse("read-only: only GET and HEAD", status_code=405)
        set_cookie = False
        if token is not None:
            given = _token_of(request)
            if given is None or not hmac.compare_digest(given.encode(), token.encode()):
                return _html(
                    _pages.message_page(
                        "Token required", "open the URL with ?token=... as printed by `otel-agents ui`"
                    ),
                    401,
                )
            set_cookie = request.query_params.get("token") is not None
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = _CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.setdefault("Cache-Control", "no-store")
        if set_cookie and token is not None:
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
        return response

    middleware = [
        Middleware(BaseHTTPMiddleware, dispatch=guard),
    ]
    return Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={404: not_found, 500: server_error, Exception: server_error},
    )


def _host_name(header: str) -> str:
    """The name in a Host header, without the port: ``[::1]:8765`` -> ``::1``."""
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def _token_of(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.query_params.get("token") or request.cookies.get(TOKEN_COOKIE)


def _is_hex(text: str) -> bool:
    low = text.strip().lower()
    return len(low) >= 4 and all(c in "0123456789abcdef" for c in low)


def _limit(request: Request) -> int:
    try:
        value = int(request.query_params.get("limit", RUNS_LIMIT))
    except ValueError:
        return RUNS_LIMIT
    return min(max(value, 1), MAX_LIMIT)
