"""The shared monitoring utilities' README apps, served by uvicorn (FastAPI) and gunicorn (Flask)."""

from __future__ import annotations

import json
import socket
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from otel_agents.api import _semconv as semconv
from tests.compat.conftest import EXAMPLES, cli_json
from tests.integrations.conftest import Server, free_port, gunicorn, request, server_env, uvicorn

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def _sample(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(
        f"{name} {labels} not on /metrics:\n" + "\n".join(x for x in text.splitlines() if name in x)
    )


@pytest.fixture
def redis_port() -> Iterator[int]:
    """A TCP listener standing in for Redis (the check only connects)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield s.getsockname()[1]


def test_fastapi_readme_serves_metrics_health_traces_and_logs(
    tmp_path: Path, servers: Callable[..., Server], upstream_http: str, redis_port: int
) -> None:
    """The FastAPI README app's metrics, health checks, spans and request-bound logs all arrive."""
    home = tmp_path / "store"
    db = tmp_path / "leads.db"
    sqlite3.connect(db).close()
    port = free_port()
    env = server_env(
        home,
        DATABASE_URL=f"sqlite:///{db}",
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        CRM_HEALTH_URL=upstream_http + "/health",
    )
    argv = uvicorn("monitoring_utils_readme:app", port, app_dir=EXAMPLES)
    server = servers(argv, env, port, cwd=tmp_path).start()
    lead = request(
        server.url + "/leads",
        body={"source": "referral", "owner": "u-9"},
        headers={"X-Request-ID": "req-77", "X-Session-ID": "s-5"},
    )
    assert lead.status == 200, server.output()
    assert lead.json()["score"] == 0.9 and lead.json()["traceparent"].startswith("00-")
    callback = request(server.url + "/crm/callback", body={}, headers={"traceparent": PARENT})
    assert callback.json()["trace_id"] == TRACE_ID
    health = request(server.url + "/health")
    assert health.status == 200, health.body
    assert {c["name"] for c in health.json()["checks"]} == {"database", "redis", "crm"}
    status = request(server.url + "/status").json()
    assert status["status"] == "healthy" and set(status["checks"]) == {"database", "redis", "crm"}
    assert set(request(server.url + "/status/redis").json()["checks"]) == {"redis"}
    text = request(server.url + "/metrics").body.decode()
    assert _sample(text, "leadapi_leads_created_total", source="referral", team="growth") == 1
    assert _sample(text, "leadapi_lead_enrichment_seconds_count", provider="clearbit", team="growth") == 1
    assert _sample(text, "leadapi_leads_in_queue", queue="enrichment", team="growth") == 7
    assert _sample(text, "leadapi_lead_payload_bytes_count", team="growth") == 1
    server.stop()

    conn = sqlite3.connect(home / "store.sqlite")
    spans = {r[0]: (r[1], r[2]) for r in conn.execute("SELECT name, trace_id, parent_span_id FROM spans")}
    records = {
        r[0]: (r[1], json.loads(r[2]))
        for r in conn.execute("SELECT body, trace_id, attributes FROM logs WHERE body LIKE 'lead %'")
    }
    conn.close()
    request_trace = spans["POST /leads"][0]
    assert spans["score_lead"][0] == request_trace and spans["notify_crm"][0] == request_trace
    assert spans["crm_callback"][0] == TRACE_ID
    trace_id, attrs = records["lead received"]
    assert trace_id == request_trace
    assert attrs[semconv.REQUEST_ID] == "req-77" and attrs[semconv.USER_ID] == "u-9"
    assert attrs[semconv.SESSION_ID] == "s-5" and attrs[semconv.CLIENT_ADDRESS] == "127.0.0.1"
    assert attrs["source"] == "referral"
    assert records["lead scored"][1]["score"] == 0.9
    shown = [log["body"] for span in cli_json("trace", request_trace, home=home) for log in span["logs"]]  # type: ignore[union-attr]
    assert {"lead received", "lead scored"} <= set(shown)
    lines = [json.loads(line) for line in (tmp_path / "logs" / "lead-api.log").read_text().splitlines()]
    received = next(line for line in lines if line["message"] == "lead received")
    assert received["service"] == "lead-api" and received["trace_id"] == request_trace
    assert received["level"] == "INFO" and received[semconv.REQUEST_ID] == "req-77"


def test_flask_readme_under_gunicorn_serves_metrics_health_and_spans(
    tmp_path: Path, servers: Callable[..., Server]
) -> None:
    """The Flask README app under gunicorn serves its prefixed metrics and /health check, and stores its spans."""
    home = tmp_path / "store"
    port = free_port()
    argv = gunicorn("monitoring_utils_flask_readme:app", port, "-w", "1", chdir=EXAMPLES)
    server = servers(argv, server_env(home), port, cwd=tmp_path).start()
    sent = request(server.url + "/send", body={"user": "u-1", "name": "Ada"})
    assert sent.status == 200 and sent.json() == {"bytes": 9}, server.output()
    health = request(server.url + "/health").json()
    assert [c["name"] for c in health["checks"]] == ["smtp"]
    text = request(server.url + "/metrics").body.decode()
    assert _sample(text, "mailer_emails_sent_total", template="welcome", team="growth") == 1
    assert _sample(text, "mailer_send_seconds_count", team="growth") == 1
    server.stop()
    conn = sqlite3.connect(home / "store.sqlite")
    names = {r[0] for r in conn.execute("SELECT name FROM spans")}
    conn.close()
    assert {"POST /send", "render_template"} <= names
