"""Plain HTTP servers on 127.0.0.1 for tests, each on its own thread, stopped on exit."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing to stderr."""

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def serving(*handlers: type[BaseHTTPRequestHandler]) -> Iterator[list[ThreadingHTTPServer]]:
    """One running server per handler class, in that order; each shut down and closed on exit."""
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), handler) for handler in handlers]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield servers
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
