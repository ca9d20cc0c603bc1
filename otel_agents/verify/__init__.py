"""Deployment verification for CI: health, expected metrics and performance against a baseline."""

from __future__ import annotations

from otel_agents.verify._checks import DEFAULT_RATIO, Check, compare, write_junit
from otel_agents.verify._sources import (
    Figures,
    PrometheusSource,
    ServiceSource,
    StoreSource,
    TargetUnreachable,
    load_baseline,
)

__all__ = [
    "DEFAULT_RATIO",
    "Check",
    "Figures",
    "PrometheusSource",
    "ServiceSource",
    "StoreSource",
    "TargetUnreachable",
    "compare",
    "load_baseline",
    "write_junit",
]
