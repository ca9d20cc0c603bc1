"""The distro asks the contrib HTTP instrumentations for the stable HTTP conventions unless the user chose."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integrations.conftest import (
    Receiver,
    free_port,
    launcher,
    post_run,
    server_env,
    server_spans,
    uvicorn,
)

STABLE = ("http.request.method", "url.path", "http.response.status_code")
OLD = ("http.method", "http.target", "http.status_code")


def _serve(tmp_path: Path, receiver: Receiver, servers: Any, **env: str) -> list[Any]:
    port = free_port()
    environment = server_env(
        tmp_path / "home",
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
        OTEL_METRIC_EXPORT_INTERVAL="500",
        **env,
    )
    server = servers(launcher(*uvicorn("agent_service:app", port)), environment, port).start()
    post_run(server.url, "req-semconv")
    server.stop()
    spans = server_spans(receiver.spans())
    assert spans
    return spans


def test_launcher_defaults_to_the_stable_http_conventions(
    tmp_path: Path, receiver: Receiver, servers: Any
) -> None:
    """Under opentelemetry-instrument, FastAPI server spans carry the stable http.* keys and the metric is
    http.server.request.duration, not the deprecated names."""
    spans = _serve(tmp_path, receiver, servers)
    for span in spans:
        assert all(key in span.attributes for key in STABLE), span.attributes
        assert not any(key in span.attributes for key in OLD), span.attributes
    names = receiver.metric_names()
    assert "http.server.request.duration" in names
    assert "http.server.duration" not in names


@pytest.mark.parametrize("value", ["http/dup"])
def test_a_value_the_user_set_is_kept(tmp_path: Path, receiver: Receiver, servers: Any, value: str) -> None:
    """OTEL_SEMCONV_STABILITY_OPT_IN=http/dup set by the user wins: old and new keys both appear."""
    spans = _serve(tmp_path, receiver, servers, OTEL_SEMCONV_STABILITY_OPT_IN=value)
    for span in spans:
        assert all(key in span.attributes for key in (*STABLE, *OLD)), span.attributes
    names = receiver.metric_names()
    assert {"http.server.request.duration", "http.server.duration"} <= names
