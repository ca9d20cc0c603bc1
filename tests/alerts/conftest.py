"""Fixtures for alert tests: a store filled through the public API, a webhook receiver, rule files."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.alert_workload import workload
from tests.support.alertmanager import alertmanager_binary
from tests.support.webhook_receiver import WebhookReceiver


@pytest.fixture
def store_home(tmp_path: Path, make_pipeline: Any) -> Callable[..., Path]:
    """Factory: run ``workload(**kw)`` into a fresh store through configure(); returns its home."""

    def fill(**kw: Any) -> Path:
        home = tmp_path / "store"
        captured = make_pipeline(exporter="store", home=home, service_name="svc")
        workload(**kw)
        assert captured.telemetry.force_flush(10)
        return home

    return fill


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as r:
        yield r


@pytest.fixture(scope="session")
def promtool() -> Path:
    """promtool from Debian's prometheus package, installed by scripts/e2e-deps.sh if absent."""
    found = shutil.which("promtool")
    if found is None:
        alertmanager_binary()  # installs prometheus (with promtool) and alertmanager
        found = shutil.which("promtool")
    assert found is not None
    return Path(found)
