"""Metric helpers (public): counters, gauges, histograms, timers, rate limits and component errors."""

from __future__ import annotations

from otel_agents.api._metrics import (
    Counter,
    Gauge,
    Histogram,
    counter,
    error,
    gauge,
    histogram,
    rate_limit,
    rate_limit_hit,
    timer,
)

__all__ = [
    "Counter",
    "Gauge",
    "Histogram",
    "counter",
    "error",
    "gauge",
    "histogram",
    "rate_limit",
    "rate_limit_hit",
    "timer",
]
