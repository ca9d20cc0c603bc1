"""Ready-made health checks: an HTTP dependency and a database URL."""

from __future__ import annotations

import socket
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Container
from typing import Final

__all__ = ["SUPPORTED_SCHEMES", "database_check", "http_check"]

# Network databases are probed with a TCP connect: no driver dependency, and it proves reachability.
TCP_SCHEMES: Final = {
    "postgresql": 5432,
    "postgres": 5432,
    "mysql": 3306,
    "mariadb": 3306,
    "redis": 6379,
    "rediss": 6379,
    "mongodb": 27017,
    "amqp": 5672,
}
SUPPORTED_SCHEMES: Final = ("sqlite", *TCP_SCHEMES)


def http_check(
    url: str, *, timeout: float = 2.0, expect: Container[int] = range(200, 400)
) -> Callable[[], str]:
    """A check that GETs ``url`` and passes when the status is in ``expect``."""
    if not isinstance(url, str):
        raise ValueError(f"http_check: expected a URL string, got {type(url).__name__}")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"http_check needs an http(s) URL with a host, got scheme {parts.scheme!r}")
    shown = f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"

    def check() -> str:
        request = urllib.request.Request(url, method="GET")  # noqa: S310 - scheme checked above
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            status = exc.code
        if status not in expect:
            raise RuntimeError(f"{shown} answered {status}")
        return f"{shown} answered {status}"

    return check


def database_check(url: str, *, timeout: float = 2.0) -> Callable[[], str]:
    """A check for a database URL: ``sqlite:///path`` runs ``SELECT 1``; network schemes connect over TCP."""
    if not isinstance(url, str):
        raise ValueError(f"database_check: expected a URL string, got {type(url).__name__}")
    scheme = url.split(":", 1)[0].split("+", 1)[0].lower()
    if scheme == "sqlite":
        return _sqlite_check(url, timeout)
    if scheme in TCP_SCHEMES:
        parts = urllib.parse.urlsplit(url)
        if not parts.hostname:
            raise ValueError(f"database_check: no host in the {scheme} URL")
        return _tcp_check(scheme, parts.hostname, parts.port or TCP_SCHEMES[scheme], timeout)
    raise ValueError(
        f"database_check: unsupported URL scheme {scheme!r}; supported: {', '.join(SUPPORTED_SCHEMES)} "
        "(register your own check with @health.check for anything else)"
    )


def _sqlite_check(url: str, timeout: float) -> Callable[[], str]:
    if ":///" not in url:
        raise ValueError("database_check: a SQLite URL looks like sqlite:///relative.db or sqlite:////abs.db")
    path = url.split(":///", 1)[1]

    def check() -> str:
        # Read-only URI: a health check must never create the database it is checking.
        target = ":memory:" if path == ":memory:" else f"file:{urllib.parse.quote(path)}?mode=ro"
        conn = sqlite3.connect(target, timeout=timeout, uri=path != ":memory:")
        try:
            conn.execute("SELECT 1").fetchone()
        finally:
            conn.close()
        return "sqlite: SELECT 1 ok"

    return check


def _tcp_check(scheme: str, host: str, port: int, timeout: float) -> Callable[[], str]:
    def check() -> str:
        with socket.create_connection((host, port), timeout=timeout):
            pass
        return f"{scheme}: tcp connect to {host}:{port} ok (protocol not checked)"

    return check
