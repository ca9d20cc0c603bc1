"""What every framework's ``setup_monitoring`` shares: the pipeline, with ``/metrics`` wired in."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from otel_agents.integrations import prometheus
from otel_agents.integrations.health import HealthRegistry
from otel_agents.sdk._configure import Telemetry, configure, current
from otel_agents.sdk._options import sdk_disabled

# Regexes searched in the full URL by the contrib instrumentors (Flask's includes the query string).
_ENDS: Final = r"(\?|$)"


def excluded_url_patterns(paths: Iterable[str | None]) -> list[str]:
    """Exclusion regexes matching exactly ``paths`` (with or without a query string)."""
    return [f"{path.rstrip('/')}{_ENDS}" for path in paths if path]


def env_excluded_urls(framework: str) -> list[str]:
    """The user's ``OTEL_PYTHON_{FRAMEWORK}_EXCLUDED_URLS`` (or ``OTEL_PYTHON_EXCLUDED_URLS``) entries."""
    raw = os.environ.get(f"OTEL_PYTHON_{framework}_EXCLUDED_URLS") or os.environ.get(
        "OTEL_PYTHON_EXCLUDED_URLS", ""
    )
    return [part.strip() for part in raw.split(",") if part.strip()]


def ensure_pipeline(service_name: str | None, metrics: bool, options: dict[str, Any]) -> Telemetry:
    """The process's pipeline: configure it (with the Prometheus reader) unless something already did."""
    active = current()
    if active is None:
        # A disabled SDK feeds no reader: one left unattached would warn at every scrape.
        if metrics and not sdk_disabled(options.get("sdk_disabled")):
            readers = list(options.pop("metric_readers", ()))
            options["metric_readers"] = [*readers, prometheus.reader()]
        active = configure(service_name=service_name, **options)
    elif service_name is not None or options:
        # Already configured (launcher or an earlier configure()): configure() warns about differences.
        configure(service_name=service_name, **options)
    if metrics and not active.options.sdk_disabled:
        prometheus.warn_if_detached(active)
    return active


@dataclass(frozen=True)
class Monitoring:
    """What ``setup_monitoring`` installed: the pipeline and the app's health registry."""

    telemetry: Telemetry
    health: HealthRegistry
