"""Alert rules with notifications: a local engine over the store, manual alerts, Prometheus export."""

from __future__ import annotations

from otel_agents.alerts._engine import Engine, Report
from otel_agents.alerts._manual import AlertmanagerNotifier, ManualAlerts
from otel_agents.alerts._notify import (
    CallableNotifier,
    Dispatcher,
    Notice,
    Notifier,
    SlackNotifier,
    WebhookNotifier,
)
from otel_agents.alerts._rules import Rule, RuleError, RuleSet, load_rules, parse_rules

__all__ = [
    "AlertmanagerNotifier",
    "CallableNotifier",
    "Dispatcher",
    "Engine",
    "ManualAlerts",
    "Notice",
    "Notifier",
    "Report",
    "Rule",
    "RuleError",
    "RuleSet",
    "SlackNotifier",
    "WebhookNotifier",
    "load_rules",
    "parse_rules",
]
