"""The Monitoring Service README examples, unchanged apart from the import line."""

import os
import time
from datetime import datetime, timedelta, timezone

from otel_agents.compat.monitoring_service import MonitoringService  # was: from monitoring_service import ...

config = {
    "service_name": "prospecting-api",
    "environment": "staging",
    "grafana_url": os.environ.get("GRAFANA_URL", "http://localhost:3000"),
    "grafana_api_key": os.environ.get("GRAFANA_API_KEY", "glsa_example"),
}
monitoring = MonitoringService(config)

# Errors: a log record plus system_errors_total{error_type, component}
monitoring.log_error(
    "LinkedIn API returned 502",
    error_type="UpstreamError",
    component="linkedin_client",
    context={"endpoint": "/v2/people", "attempt": 3},
)

# Metrics
start = time.perf_counter()
monitoring.record_metric(
    "request_duration_seconds", 0.182, {"method": "GET", "endpoint": "/prospects", "status_code": "200"}
)
monitoring.record_metric(
    "processing_time_seconds",
    time.perf_counter() - start + 1.5,
    {"operation": "enrich", "component": "scorer"},
)
monitoring.record_metric("memory_usage_bytes", 512 * 1024 * 1024, {"component": "worker"})
monitoring.record_metric("cpu_usage_percent", 37.5, {"component": "worker"})
monitoring.record_metric("prospect_score", 0.87, {"source": "linkedin", "campaign": "q3-saas"})
monitoring.record_metric("engagement_total", 3, {"platform": "linkedin", "engagement_type": "reply"})

# Rate limits
monitoring.record_rate_limit(
    "linkedin", "daily_invites", remaining=0, reset_time=datetime.now(timezone.utc) + timedelta(hours=6)
)

# Grafana
dashboard = {
    "title": "Prospecting",
    "panels": [
        {"type": "timeseries", "title": "Errors", "targets": [{"expr": "sum(rate(system_errors_total[5m]))"}]}
    ],
}
created = monitoring.create_grafana_dashboard(dashboard)
monitoring.update_grafana_dashboard(created["uid"], {**dashboard, "title": "Prospecting (v2)"})
print(monitoring.get_grafana_dashboard(created["uid"])["dashboard"]["title"])
monitoring.create_grafana_alert(
    {
        "title": "High error rate",
        "ruleGroup": "prospecting",
        "folderUID": "ops",
        "condition": "A",
        "for": "5m",
        "data": [
            {
                "refId": "A",
                "datasourceUid": "prom",
                "model": {"expr": "sum(rate(system_errors_total[5m])) > 1"},
            }
        ],
        "noDataState": "OK",
        "execErrState": "Error",
        "labels": {"severity": "warning"},
    }
)
print(len(monitoring.get_grafana_alerts()), "alert rules")
