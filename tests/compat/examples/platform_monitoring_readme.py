"""The platform_monitoring README examples, unchanged apart from the import line."""

from otel_agents.compat.platform_monitoring import (  # was: from platform_monitoring import ...
    log_event,
    prometheus_metric,
)

# Structured events
log_event(
    {"event_type": "user_signup", "level": "info", "message": "new signup", "plan": "pro", "user_id": "u-17"}
)
log_event({"event_type": "payment_failed", "level": "error", "message": "card declined", "amount": 49.0})

# Prometheus metrics: counters end in _total, everything else is a gauge
prometheus_metric("signups_total", 1, {"plan": "pro"})
prometheus_metric("signups_total", 2, {"plan": "free"})
prometheus_metric("queue_depth", 42, {"queue": "emails"})
