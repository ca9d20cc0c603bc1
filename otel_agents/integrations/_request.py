"""Request ids: accept a well-formed incoming ``X-Request-ID`` or mint one, and bind it to telemetry."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from opentelemetry import trace

from otel_agents.api import _semconv as semconv
from otel_agents.api._guard import never_raise
from otel_agents.api._run_context import run_context

HEADER: Final = "X-Request-ID"
HEADER_LOWER: Final = HEADER.lower()
# Anything else (control characters, huge values, injection attempts) is replaced, never echoed.
_ACCEPTED: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@+=/-]{0,127}")


def new_request_id() -> str:
    """A fresh random request id (32 hex digits)."""
    # A correlation id, not a secret: the PRNG is several times cheaper than uuid4's os.urandom.
    return f"{random.getrandbits(128):032x}"


def request_id_from(raw: str | bytes | None) -> str:
    """``raw`` when it is a well-formed request id, otherwise a new one."""
    with never_raise("integrations.request_id"):
        if isinstance(raw, bytes):
            raw = raw.decode("latin-1")
        if isinstance(raw, str):
            raw = raw.strip()
            if _ACCEPTED.fullmatch(raw):
                return raw
    return new_request_id()


@contextmanager
def request_context(request_id: str) -> Iterator[str]:
    """Bind ``request_id`` to the current server span, to every span below it and to log records."""
    with never_raise("integrations.request_span"):
        span = trace.get_current_span()
        if span.is_recording():
            # The server span started before this block: the run-context processor saw no id then.
            span.set_attribute(semconv.REQUEST_ID, request_id)
    with run_context(request_id=request_id):
        yield request_id
