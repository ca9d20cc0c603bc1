"""``/health`` over real servers when checks raise, hang or fail: 503, bounded, every check reported."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.integrations.apps.health_app import TIMEOUT
from tests.integrations.conftest import APPS, free_port, gunicorn, request, server_env, uvicorn


def _argv(framework: str, port: int) -> list[str]:
    if framework == "fastapi":
        return uvicorn("health_app:fastapi_app", port, app_dir=APPS)
    return gunicorn(
        "health_app:flask_app", port, "--no-control-socket", "-w", "1", "--threads", "4", chdir=APPS
    )


@pytest.mark.parametrize("framework", ["fastapi", "flask"])
def test_failing_checks_give_503_with_every_check(framework: str, tmp_path: Path, servers: Any) -> None:
    """Checks that raise, hang past their timeout or return False make /health answer 503 quickly, each reported with its reason."""
    port = free_port()
    # Probe readiness on /metrics: a /health probe would already start the hanging check.
    server = servers(_argv(framework, port), server_env(tmp_path / "home"), port).start("/metrics")
    started = time.monotonic()
    response = request(server.url + "/health")
    elapsed = time.monotonic() - started
    assert response.status == 503
    assert elapsed < TIMEOUT + 2.0, elapsed
    body = response.json()
    assert body["status"] == "fail"
    checks = {c["name"]: c for c in body["checks"]}
    expected = {"ok", "raises", "hostile", "says_false", "hangs", "hangs_async"}
    assert expected <= set(checks), checks
    assert checks["ok"] == {**checks["ok"], "status": "pass", "message": "fine"}
    for name in expected - {"ok"}:
        assert checks[name]["status"] == "fail", checks[name]
    assert "timed out" in checks["hangs"]["message"]
    assert "timed out" in checks["hangs_async"]["message"]
    assert "hunter2" not in response.body.decode()
    assert checks["raises"]["message"].startswith("ConnectionError")
    assert checks["hostile"]["message"] == "HostileError"
    # The hung sync check is still running: a second probe answers at once instead of piling up threads.
    again = request(server.url + "/health").json()
    hung = {c["name"]: c for c in again["checks"]}["hangs"]
    assert hung["status"] == "fail" and "not finished" in hung["message"]
