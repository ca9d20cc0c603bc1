"""The shared monitoring utilities' README alert examples, unchanged apart from the import line."""

from otel_agents.compat.monitoring_utils import (  # was: from monitoring_utils import (
    AlertRule,
    AlertSeverity,
    AlertState,
    resolve_alert,
    trigger_alert,
    update_alert,
)

# Manual alerts
alert_id = trigger_alert(
    "payment_gateway_down",
    "Stripe webhooks failing for 5 minutes",
    severity=AlertSeverity.CRITICAL,
    labels={"service": "billing"},
)
update_alert(alert_id, message="Stripe webhooks failing for 10 minutes", state=AlertState.ACKNOWLEDGED)
resolve_alert(alert_id, message="Webhooks recovered")

# Threshold rules
latency = AlertRule(
    "p95_latency_high", metric_name="p95_latency_seconds", threshold_above=1.5, cooldown_period=600
)
queue = AlertRule(
    "queue_depth_out_of_range",
    metric_name="queue_depth",
    outside_range=(0, 1000),
    severity=AlertSeverity.ERROR,
)
signups = AlertRule(
    "signups_low", metric_name="signups_per_hour", threshold_below=5, severity=AlertSeverity.INFO
)

for value in (0.8, 2.1, 2.4, 0.9, 3.0):
    fired = latency.check(value)
    print(f"p95={value}: {'alert ' + fired if fired else 'ok'}")
print(f"queue: {queue.check(1500)}")
print(f"signups: {signups.check(3)}")
