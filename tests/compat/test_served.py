"""The old README examples run inside a real FastAPI service under setup_monitoring, served by uvicorn."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

from tests.compat.conftest import cli_json
from tests.compat.grafana_fake import GrafanaFake
from tests.integrations.conftest import Server, free_port, request, server_env, uvicorn

APPS = Path(__file__).resolve().parent / "apps"


def _sample(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} {labels} not on /metrics")


def test_platform_and_service_readmes_reach_metrics_store_and_cli(
    tmp_path: Path, servers: Callable[..., Server], grafana: GrafanaFake
) -> None:
    """Run in a request, both READMEs' metrics are on /metrics and their log records in the store, in that request's trace."""
    home = tmp_path / "store"
    port = free_port()
    env = server_env(home, GRAFANA_URL=grafana.url)
    server = servers(uvicorn("readme_runner:app", port, app_dir=APPS), env, port).start()
    for name in ("monitoring_service", "platform_monitoring"):
        assert request(f"{server.url}/run/{name}", body={}).status == 200, server.output()
    text = request(server.url + "/metrics").body.decode()
    assert _sample(text, "system_errors_total", error_type="UpstreamError", component="linkedin_client") == 1
    assert _sample(text, "request_duration_seconds_bucket", le="0.25", endpoint="/prospects") == 1
    assert _sample(text, "request_duration_seconds_bucket", le="0.1", endpoint="/prospects") == 0
    assert _sample(text, "processing_time_seconds_count", operation="enrich") == 1
    assert _sample(text, "rate_limit_hits_total", platform="linkedin", limit_type="daily_invites") == 1
    assert _sample(text, "memory_usage_bytes", component="worker") == 512 * 1024 * 1024
    assert _sample(text, "cpu_usage_percent", component="worker") == 37.5
    assert _sample(text, "prospect_score_bucket", le="0.9", source="linkedin") == 1
    assert _sample(text, "engagement_total", platform="linkedin", engagement_type="reply") == 3
    assert _sample(text, "signups_total", plan="free") == 2
    assert _sample(text, "queue_depth", queue="emails") == 42
    server.stop()

    conn = sqlite3.connect(home / "store.sqlite")
    logs = {
        r[0]: (r[1], r[2], json.loads(r[3]))
        for r in conn.execute(
            "SELECT event_name, trace_id, body, attributes FROM logs WHERE event_name IS NOT NULL"
        )
    }
    metric_names = {r[0] for r in conn.execute("SELECT DISTINCT name FROM metric_points")}
    conn.close()
    assert {"system_error", "rate_limit", "user_signup", "payment_failed"} <= set(logs)
    trace_id, body, attrs = logs["system_error"]
    assert body == "LinkedIn API returned 502" and attrs["component"] == "linkedin_client"
    assert {"system_errors_total", "engagement_total", "signups_total"} <= metric_names
    # The record belongs to the request that ran the README: `otel-agents trace` shows it under it.
    spans = cli_json("trace", trace_id, home=home)
    shown = [log["body"] for span in spans for log in span["logs"]]  # type: ignore[union-attr]
    assert "LinkedIn API returned 502" in shown
    assert any(s["name"] == "POST /run/{name}" for s in spans)  # type: ignore[union-attr]
