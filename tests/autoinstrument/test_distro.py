"""The distro's defaults for contrib instrumentors yield to any standard variable the user set."""

from __future__ import annotations

import pytest

from otel_agents.autoinstrument._distro import instrumentor_defaults


def test_fastapi_defaults_exclude_monitoring_paths_and_asgi_spans(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without user settings, FastAPI drops ASGI send/receive spans and /health, /metrics traces."""
    monkeypatch.delenv("OTEL_PYTHON_FASTAPI_EXCLUDED_URLS", raising=False)
    monkeypatch.delenv("OTEL_PYTHON_EXCLUDED_URLS", raising=False)
    defaults = instrumentor_defaults("fastapi")
    assert defaults["exclude_spans"] == ["receive", "send"]
    assert "/health" in defaults["excluded_urls"] and "/metrics" in defaults["excluded_urls"]


def test_user_variables_win(monkeypatch: pytest.MonkeyPatch) -> None:
    """OTEL_PYTHON_FLASK_EXCLUDED_URLS and OTEL_PYTHON_LOG_AUTO_INSTRUMENTATION replace our defaults."""
    monkeypatch.setenv("OTEL_PYTHON_FLASK_EXCLUDED_URLS", "ping")
    monkeypatch.setenv("OTEL_PYTHON_LOG_AUTO_INSTRUMENTATION", "true")
    assert "excluded_urls" not in instrumentor_defaults("flask")
    assert instrumentor_defaults("logging") == {}


def test_other_instrumentors_are_untouched() -> None:
    """Instrumentors we have no opinion on get no extra arguments."""
    assert instrumentor_defaults("requests") == {}
