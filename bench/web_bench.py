"""Throughput and p99 of a FastAPI and a Flask agent endpoint: bare, contrib and otel-agents, in one run.

Run: ``.venv/bin/python -m bench.web_bench`` (or ``make bench-web``, which installs ``wrk`` from
Debian first when it can).

Each configuration runs in its own server process pinned to CPU 0 (FastAPI: one uvicorn process;
Flask: gunicorn with two sync workers); the load generator runs on CPU 1: ``wrk`` when it is
installed, else a closed-loop Python generator (plain sockets); the output says which ran. Rounds
interleave the configurations; figures are medians of per-round figures.

FastAPI (``bench/web_app.py``):
- ``bare``: no SDK (the ``oa`` calls are API no-ops);
- ``sdk-floor``: the least any SDK-based instrumentation does here: the same three spans (the
  request's SERVER span, FastAPI's own without its per-operation spans and metrics, or on an older
  FastAPI a minimal ASGI wrapper's; the agent's; the tool's) through the plain SDK's batch
  processor, no metrics, no request context;
- ``contrib``: ``FastAPIInstrumentor`` with its defaults (three spans per request, ASGI ``receive``
  and ``send`` included) + plain SDK (BatchSpanProcessor, one Prometheus reader), FastAPI's own
  telemetry (0.165+) off, so that contrib's middleware alone is measured;
- ``contrib-lean``: the same with ``exclude_spans=["receive", "send"]``, which ``setup_monitoring``
  also uses: the like-for-like baseline;
- ``distro``: ``setup_monitoring`` (the otel-agents pipeline, request ids, one Prometheus reader).

Flask (``bench/web_flask_app.py``): ``bare``, ``sdk-floor`` (a minimal WSGI wrapper), ``contrib``
(``FlaskInstrumentor`` + plain SDK, as above) and ``distro`` (``setup_monitoring``).

Reported per configuration: requests/s at ``--connections`` connections, the throughput lost
against the bare app, p99 latency at one connection, and that p99 against contrib's. Every
configuration exports spans to the same discarding exporter.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bench import _results
from bench.web_app import MODES as FASTAPI_MODES
from bench.web_flask_app import MODES as FLASK_MODES

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
REQUEST = b"GET /run HTTP/1.1\r\nHost: bench\r\n\r\n"
FRAMEWORKS: dict[str, tuple[str, ...]] = {"fastapi": FASTAPI_MODES, "flask": FLASK_MODES}
SERVERS = {"fastapi": "uvicorn, 1 process", "flask": "gunicorn, 2 sync workers"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _pin(cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {cpu})


def _server_argv(framework: str, port: int) -> list[str]:
    if framework == "fastapi":
        argv = [sys.executable, "-m", "uvicorn", "bench.web_app:app", "--host", HOST, "--port", str(port)]
        return [*argv, "--no-access-log", "--log-level", "warning"]
    argv = [sys.executable, "-m", "gunicorn", "bench.web_flask_app:app", "-b", f"{HOST}:{port}"]
    return [*argv, "-w", "2", "-k", "sync", "--log-level", "warning"]


@contextlib.contextmanager
def _servers(framework: str) -> Iterator[dict[str, int]]:
    procs: list[subprocess.Popen[bytes]] = []
    ports: dict[str, int] = {}
    try:
        for mode in FRAMEWORKS[framework]:
            port = _free_port()
            env = {
                **os.environ,
                "BENCH_MODE": mode,
                "OTEL_AGENTS_HOME": tempfile.mkdtemp(prefix="web-bench-"),
            }
            procs.append(
                subprocess.Popen(_server_argv(framework, port), cwd=ROOT, env=env, preexec_fn=lambda: _pin(0))  # noqa: PLW1509
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


def _read_response(sock: socket.socket, buffer: bytearray) -> bool:
    """Read one response; True when the server will close the connection after it."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        buffer += chunk
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    length, close = 0, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection":
            close = value.strip().lower() == b"close"
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        rest += chunk
    buffer[:] = rest[length:]
    return close


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection((HOST, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def python_load(port: int, seconds: float, connections: int) -> tuple[float, float]:
    """Closed-loop load from this process: requests/s and p99 ms over ``connections`` connections.

    Keep-alive where the server allows it (gunicorn's sync workers close after each response: then
    each request opens a new connection, as a client of that server would).
    """
    stop = time.perf_counter() + seconds
    latencies: list[list[float]] = [[] for _ in range(connections)]

    def client(slot: list[float]) -> None:
        sock = _connect(port)
        buffer = bytearray()
        try:
            while True:
                start = time.perf_counter()
                if start >= stop:
                    return
                sock.sendall(REQUEST)
                if _read_response(sock, buffer):
                    sock.close()
                    sock, buffer = _connect(port), bytearray()
                slot.append(time.perf_counter() - start)
        finally:
            sock.close()

    threads = [threading.Thread(target=client, args=(slot,)) for slot in latencies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    merged = sorted(x for slot in latencies for x in slot)
    p99 = merged[min(len(merged) - 1, int(len(merged) * 0.99))] * 1000 if merged else float("nan")
    return len(merged) / seconds, p99


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def parse_wrk(output: str) -> tuple[float, float]:
    """Requests/s and p99 ms from ``wrk --latency`` output; raises when it reports errors."""
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError(f"wrk saw errors:\n{output}")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    if rps is None or p99 is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    return float(rps.group(1)), float(p99.group(1)) * _UNITS[p99.group(2)]


def wrk_load(port: int, seconds: float, connections: int) -> tuple[float, float]:
    """``wrk`` on CPU 1, one thread: requests/s and p99 ms."""
    argv = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(round(seconds), 1)}s",  # wrk takes whole seconds only
        "--latency",
        f"http://{HOST}:{port}/run",
    ]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, preexec_fn=lambda: _pin(1))
    return parse_wrk(out.stdout)


def _measure(
    framework: str, load: Any, rounds: int, seconds: float, connections: int, p99_seconds: float
) -> dict[str, dict[str, float]]:
    modes = FRAMEWORKS[framework]
    rps: dict[str, list[float]] = {m: [] for m in modes}
    p99: dict[str, list[float]] = {m: [] for m in modes}
    with _servers(framework) as ports:
        for port in ports.values():
            load(port, 1.0, connections)  # warm-up
        for _ in range(rounds):
            for mode in modes:
                rps[mode].append(load(ports[mode], seconds, connections)[0])
                p99[mode].append(load(ports[mode], p99_seconds, 1)[1])
    figures: dict[str, dict[str, float]] = {}
    for mode in modes:
        lost = statistics.median(1 - a / b for a, b in zip(rps[mode], rps["bare"], strict=True))
        figures[mode] = {
            "rps": statistics.median(rps[mode]),
            "p99_ms": statistics.median(p99[mode]),
            "lost_vs_bare": lost,
        }
    for mode in modes:
        figures[mode]["p99_vs_contrib"] = figures[mode]["p99_ms"] / figures["contrib"]["p99_ms"]
    return figures


def _print(framework: str, figures: dict[str, dict[str, float]]) -> None:
    print(f"\n{framework} ({SERVERS[framework]}, CPU 0)")
    print(f"{'config':<14}{'req/s':>10}{'lost vs bare':>14}{'p99 ms @1':>11}{'p99 / contrib':>15}")
    for mode, f in figures.items():
        print(
            f"{mode:<14}{f['rps']:>10.0f}{f['lost_vs_bare']:>13.1%}{f['p99_ms']:>11.2f}{f['p99_vs_contrib']:>14.2f}x"
        )
    ours = figures["distro"]
    baselines = [("contrib, default", "contrib")]
    if "contrib-lean" in figures:
        baselines.append(('contrib, exclude_spans=["receive","send"]', "contrib-lean"))
    lost = "; ".join(f"{label}: {figures[m]['lost_vs_bare']:.1%}" for label, m in baselines)
    print(f"otel-agents throughput lost against bare: {ours['lost_vs_bare']:.1%} ({lost})")
    if "sdk-floor" in figures:
        print(f"the plain SDK's same three spans alone lose: {figures['sdk-floor']['lost_vs_bare']:.1%}")
    p99 = "; ".join(f"{label}: {figures[m]['p99_ms']:.2f} ms" for label, m in baselines)
    print(
        f"otel-agents p99 at 1 connection: {ours['p99_ms']:.2f} ms, {ours['p99_vs_contrib']:.2f}x contrib's ({p99})"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0, help="load per configuration per round")
    parser.add_argument("--connections", type=int, default=4)
    # A p99 needs samples: one second at one connection gave 500-2,000 requests, whose p99 was their
    # 5th-20th slowest, and contrib's moved from 2.5 to 42 ms between runs.
    parser.add_argument("--p99-seconds", type=float, default=4.0, help="load at 1 connection per round")
    parser.add_argument("--frameworks", nargs="+", choices=list(FRAMEWORKS), default=list(FRAMEWORKS))
    parser.add_argument("--load", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    generator = args.load if args.load != "auto" else ("wrk" if shutil.which("wrk") else "python")
    if generator == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    load = wrk_load if generator == "wrk" else python_load
    if generator == "python":
        _pin(1)
    note = "" if generator == "wrk" or args.load == "python" else " (wrk is not installed)"
    print(
        f"load generator: {generator}{note}, CPU 1; {args.rounds} rounds x {args.seconds:g} s per configuration"
    )
    print(
        f"throughput at {args.connections} connections; p99 at 1 connection, {args.p99_seconds:g} s a round"
    )
    results = {}
    for framework in args.frameworks:
        results[framework] = _measure(
            framework, load, args.rounds, args.seconds, args.connections, args.p99_seconds
        )
        _print(framework, results[framework])
    _results.write(
        args.json,
        "web",
        results,
        load_generator=generator,
        rounds=args.rounds,
        seconds=args.seconds,
        p99_seconds=args.p99_seconds,
        connections=args.connections,
    )


if __name__ == "__main__":
    main()
