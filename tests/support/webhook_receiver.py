"""A real HTTP webhook receiver on 127.0.0.1 that records every JSON body it is sent."""

from __future__ import annotations

import http.server
import json
import threading
import time
from typing import Any


class WebhookReceiver:
    """Answers ``status`` (after ``fail_first`` answers of 500), optionally after ``delay`` seconds."""

    def __init__(self, *, fail_first: int = 0, delay: float = 0.0) -> None:
        self.bodies: list[Any] = []
        self.paths: list[str] = []
        self.attempts = 0
        self.fail_first = fail_first
        self.delay = delay
        self._lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver._lock:
                    receiver.attempts += 1
                    failing = receiver.attempts <= receiver.fail_first
                    if not failing:
                        receiver.bodies.append(json.loads(raw))
                        receiver.paths.append(self.path)
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, n: int, timeout: float = 10.0) -> list[Any]:
        """The first ``n`` bodies, waiting up to ``timeout`` seconds for them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.bodies) >= n:
                    return list(self.bodies)
            time.sleep(0.02)
        raise AssertionError(f"expected {n} webhook bodies, got {len(self.bodies)}: {self.bodies}")
