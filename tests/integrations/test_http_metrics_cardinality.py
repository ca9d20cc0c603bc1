"""HTTP server metrics under setup_monitoring keep server-chosen labels only: 2,000 Host headers mint none."""

from __future__ import annotations

import http.client
import re
import sqlite3
from pathlib import Path

from tests.integrations.conftest import HOST, Server, free_port, request, server_env, uvicorn, wait_for
from tests.support.otlp_receiver import Receiver

CANARY = "hostcanary"


def _hammer(port: int, n: int) -> None:
    """``n`` requests on one keep-alive connection, each with its own Host header and path."""
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    for i in range(n):
        conn.request("GET", f"/nope/{CANARY}-path-{i}", headers={"Host": f"{CANARY}-{i}.example:{i}"})
        response = conn.getresponse()
        response.read()
        assert response.status == 404
    conn.close()


def _label_sets(metrics_text: str) -> dict[str, set[str]]:
    families: dict[str, set[str]] = {}
    for line in metrics_text.splitlines():
        m = re.match(r"^(http_server_[a-z_]+?)(?:_bucket|_count|_sum|_total|_created)?(\{.*\})? ", line)
        if m:
            labels = re.sub(r',?le="[^"]*"', "", m.group(2) or "")
            families.setdefault(m.group(1), set()).add(labels)
    return families


def test_host_headers_never_become_labels(tmp_path: Path) -> None:
    """2,000 distinct Host headers and paths leave a handful of label sets and no Host value in any sink."""
    home = tmp_path / "home"
    port = free_port()
    server = Server(uvicorn("agent_service:app", port), server_env(home), port, tmp_path / "server.log")
    server.start()
    try:
        _hammer(port, 2000)
        text = request(f"http://{HOST}:{port}/metrics").body.decode()
        families = _label_sets(text)
        assert families, text[:2000]
        assert max(len(sets) for sets in families.values()) <= 10, {k: len(v) for k, v in families.items()}
        assert CANARY not in text
        assert len(text) < 200_000
    finally:
        server.stop()
    conn = sqlite3.connect(f"file:{home / 'store.sqlite'}?mode=ro", uri=True)
    rows = conn.execute(
        "SELECT name, attributes FROM metric_points WHERE name LIKE 'http.server.%'"
    ).fetchall()
    conn.close()
    assert rows, "the store holds the HTTP server metrics"
    assert not any(CANARY in (attrs or "") for _, attrs in rows)
    assert len({attrs for _, attrs in rows}) <= 20
    metric_files = list((home / "otlp").glob("metrics-*.ndjson"))
    assert metric_files
    for path in metric_files:
        assert CANARY.encode() not in path.read_bytes(), path.name


def test_host_headers_never_reach_otlp_metrics(tmp_path: Path) -> None:
    """Over OTLP the HTTP server metrics carry no client-chosen value either."""
    receiver = Receiver()
    port = free_port()
    env = server_env(
        tmp_path / "home", OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint, OTEL_METRIC_EXPORT_INTERVAL="200"
    )
    server = Server(uvicorn("agent_service:app", port), env, port, tmp_path / "server.log")
    server.start()
    try:
        _hammer(port, 300)
        wait_for(lambda: any(n.startswith("http.server") for n in receiver.metric_names()), timeout=20)
    finally:
        server.stop()
    with receiver.lock:
        payload = b"".join(m.SerializeToString() for m in receiver.metrics)
    receiver.close()
    assert CANARY.encode() not in payload
