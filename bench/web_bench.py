"""Requests/s and p99 of a FastAPI agent endpoint: bare, contrib-only and full distro, in one run.

Run: ``.venv/bin/python -m bench.web_bench`` (or ``make bench-web``).

Each configuration (see ``bench/web_app.py``) runs in its own uvicorn process pinned to CPU 0;
the load generator (keep-alive HTTP/1.1 over loopback, a few connections, plain sockets) runs on
CPU 1. Rounds interleave the configurations; ratios are medians of per-round ratios.

- ``bare``: no SDK (the ``oa`` calls are API no-ops).
- ``contrib``: ``FastAPIInstrumentor`` with its defaults + plain SDK (BatchSpanProcessor, one
  Prometheus reader).
- ``contrib-lean``: the same with ``exclude_spans=["receive", "send"]``, which ``setup_monitoring``
  also uses: the like-for-like baseline.
- ``distro``: ``setup_monitoring`` (the otel-agents pipeline with every processor, the request-id
  middleware, one Prometheus reader).

Every configuration exports spans to the same discarding exporter. Target (issue 4): ``distro``
throughput at least 90% of ``contrib``; the ratio to ``contrib-lean`` is reported as the stricter
like-for-like comparison.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from bench.web_app import MODES

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
REQUEST = b"GET /run HTTP/1.1\r\nHost: bench\r\n\r\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _pin(cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {cpu})


@contextlib.contextmanager
def _servers() -> Iterator[dict[str, int]]:
    procs: list[subprocess.Popen[bytes]] = []
    ports: dict[str, int] = {}
    try:
        for mode in MODES:
            port = _free_port()
            env = {
                **os.environ,
                "BENCH_MODE": mode,
                "OTEL_AGENTS_HOME": tempfile.mkdtemp(prefix="web-bench-"),
            }
            argv = [sys.executable, "-m", "uvicorn", "bench.web_app:app", "--host", HOST, "--port", str(port)]
            argv += ["--no-access-log", "--log-level", "warning"]
            procs.append(
                subprocess.Popen(argv, cwd=ROOT, env=env, preexec_fn=lambda: _pin(0))  # noqa: PLW1509
            )
            ports[mode] = port
        for port in ports.values():
            _wait_ready(port)
        yield ports
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait_ready(port: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/run", timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _read_response(sock: socket.socket, buffer: bytearray) -> None:
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        buffer += chunk
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        rest += chunk
    buffer[:] = rest[length:]


def _load(port: int, seconds: float, connections: int) -> tuple[int, list[float]]:
    """Closed-loop load: ``connections`` keep-alive connections for ``seconds``; count and latencies."""
    stop = time.perf_counter() + seconds
    latencies: list[list[float]] = [[] for _ in range(connections)]

    def client(slot: list[float]) -> None:
        with socket.create_connection((HOST, port)) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            buffer = bytearray()
            while True:
                start = time.perf_counter()
                if start >= stop:
                    return
                sock.sendall(REQUEST)
                _read_response(sock, buffer)
                slot.append(time.perf_counter() - start)

    threads = [threading.Thread(target=client, args=(slot,)) for slot in latencies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    merged = [x for slot in latencies for x in slot]
    return len(merged), merged


def _p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0, help="load per configuration per round")
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args()
    _pin(1)
    rps: dict[str, list[float]] = {m: [] for m in MODES}
    p99: dict[str, list[float]] = {m: [] for m in MODES}
    with _servers() as ports:
        for port in ports.values():
            _load(port, 1.0, args.connections)  # warm-up
        for _ in range(args.rounds):
            for mode in MODES:
                count, _ = _load(ports[mode], args.seconds, args.connections)
                rps[mode].append(count / args.seconds)
                _, latencies = _load(ports[mode], args.seconds / 2, 1)
                p99[mode].append(_p99(latencies))
    print(f"{args.rounds} rounds x {args.seconds:g} s, {args.connections} connections; p99 at 1 connection")
    print(f"{'config':<14}{'req/s':>10}{'p99 ms':>10}{'rps vs bare':>14}")
    for mode in MODES:
        ratio = statistics.median(a / b for a, b in zip(rps[mode], rps["bare"], strict=True))
        print(
            f"{mode:<14}{statistics.median(rps[mode]):>10.0f}{statistics.median(p99[mode]):>10.2f}{ratio:>14.3f}"
        )
    # The baseline is the contrib instrumentation as it comes; contrib-lean (the same
    # exclude_spans as ours) is the stricter like-for-like comparison, reported beside it.
    for base, note in (("contrib", "issue target >= 0.90"), ("contrib-lean", "stricter, same target")):
        ratio = statistics.median(a / b for a, b in zip(rps["distro"], rps[base], strict=True))
        verdict = "meets" if ratio >= 0.9 else "misses"
        print(f"distro / {base} throughput: {ratio:.3f} ({note}: {verdict})")


if __name__ == "__main__":
    main()
