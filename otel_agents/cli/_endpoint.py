"""Which OTLP endpoint the environment configures, and whether it accepts connections."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

from otel_agents.api._urls import masked

_DEFAULT_PORTS = {"http": 80, "https": 443}


def configured_traces_endpoint() -> str | None:
    """The OTLP/HTTP traces URL from ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or ``..._ENDPOINT``."""
    specific = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
    if specific:
        return specific
    base = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    return traces_url(base) if base else None


def traces_url(endpoint: str) -> str:
    """``endpoint`` with ``/v1/traces`` appended when it names only a host (OTLP/HTTP rule)."""
    parts = urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
    if parts.path in ("", "/"):
        return f"{parts.scheme}://{parts.netloc}/v1/traces"
    return parts.geturl()


def reachable(endpoint: str, timeout: float = 2.0) -> tuple[bool, str]:
    """Whether a TCP connection to the endpoint's host and port succeeds, and a short reason."""
    parts = urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
    host = parts.hostname
    if not host:
        return False, f"cannot read a host from {masked(endpoint)!r}"
    try:
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 4318)
    except ValueError:
        return False, f"bad port in {masked(endpoint)!r}"
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True, f"{host}:{port} accepts connections"
    except OSError as exc:
        return False, f"{host}:{port}: {exc.strerror or exc}"
