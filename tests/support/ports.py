"""Free loopback ports for the servers tests start, never the same one twice in a test session."""

from __future__ import annotations

import socket
import threading

_given: set[int] = set()
_lock = threading.Lock()


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now and no earlier call handed out.

    The kernel may give a port just closed to the next ``bind(0)``; a collector, two gateways and
    Jaeger take about twenty ports at once, and two of them once got the same one ("address
    already in use").
    """
    with _lock:
        while True:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind((host, 0))
                port = int(s.getsockname()[1])
            if port not in _given:
                _given.add(port)
                return port
