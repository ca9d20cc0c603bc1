"""The marketing agents' observability README examples, unchanged apart from the import line."""

import os

from otel_agents.compat.marketing_observability import (  # was: from observability import ...
    MetricsCollector,
    StructuredLogger,
)

logger = StructuredLogger("campaign_orchestrator").bind_context(
    campaign_id="cmp-2026-q3", session_id="sess-41", user_id="marketer-7"
)
metrics = MetricsCollector()

# A workflow with routing, agents and tools
logger.log_workflow_event(
    "wf-1001",
    "started",
    workflow_name="launch_campaign",
    data={"channels": ["email", "linkedin"], "budget": 5000},
)
logger.log_routing_decision(
    "orchestrator",
    "copywriter",
    reason="the brief needs new copy",
    confidence=0.92,
    alternatives=["copywriter", "designer", "analyst"],
)

brief = (
    "Write three subject lines for the Q3 launch of Acme Analytics, aimed at data leaders of mid-size "
    "SaaS companies: friendly, precise, no buzzwords."
)
logger.log_agent_execution(
    "copywriter",
    input_data={
        "brief": brief,
        "tone": "friendly",
        "api_key": os.environ.get("OPENAI_API_KEY", "sk-test-0000"),
    },
    output_data=[
        "Your data, finally answering back",
        "Dashboards your board will read",
        "Less SQL, more signal",
    ],
    duration_ms=1840,
    success=True,
)
metrics.record_agent_execution("copywriter", duration=1.84, success=True)

logger.log_tool_usage(
    "keyword_research",
    agent_name="copywriter",
    input_data={"query": "data analytics saas"},
    output_data={"keywords": ["analytics platform", "bi tool", "data dashboards"]},
    duration_ms=420,
)
metrics.record_tool_usage("keyword_research", duration=0.42, agent_name="copywriter")

logger.log_agent_execution(
    "designer", input_data={"brief": brief}, duration_ms=3000, success=False, error="image service timeout"
)
metrics.record_agent_execution("designer", duration=3.0, success=False)

logger.log_workflow_event("wf-1001", "step_completed", workflow_name="launch_campaign", step="copy")
logger.log_workflow_event("wf-1001", "completed", workflow_name="launch_campaign", data={"assets": 4})
metrics.record_workflow_metrics("launch_campaign", duration=6.2, steps_completed=3, success=True)

# Custom metrics and their summary
for score in (0.61, 0.72, 0.85, 0.9, 0.4):
    metrics.record_metric("lead_quality_score", score, tags={"channel": "email"})
summary = metrics.get_metrics_summary("lead_quality_score", time_range="1h", tags={"channel": "email"})
print("lead quality:", {k: summary[k] for k in ("count", "sum", "mean", "median", "min", "max", "stddev")})

# Alerts
from otel_agents.compat.marketing_observability import AlertManager, AlertRule  # noqa: E402 - was: from observability import ...

alerts = AlertManager()
alerts.add_rule(
    AlertRule(
        name="high_error_rate",
        condition="error_rate > threshold",
        threshold=0.05,
        duration=0,
        cooldown=300,
        severity="critical",
        message_template="Error rate {value:.1%} is above {threshold:.0%}",
    )
)
alerts.add_rule(
    AlertRule(
        name="slow_agents", condition="avg_agent_seconds > threshold", threshold=2.5, severity="warning"
    )
)
alerts.add_notification_handler(
    lambda alert: print(f"ALERT {alert['state']} [{alert['severity']}] {alert['message']}")
)

fired = alerts.check_rules({"error_rate": 0.08, "avg_agent_seconds": 2.4})
print(f"fired: {[a['name'] for a in fired]}")
again = alerts.check_rules({"error_rate": 0.09, "avg_agent_seconds": 2.4})
print(f"fired again: {[a['name'] for a in again]}")
alerts.check_rules({"error_rate": 0.01, "avg_agent_seconds": 2.4})
print(f"active: {alerts.active_alerts()}")
