"""Bad arguments fail loudly at configure(); bad environment values warn and fall back, the app starts."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import otel_agents as oa
from otel_agents.store import _paths as paths

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "endpoint", ["not a url", "localhost:4318", "ftp://collector:4318", "http://:4318", "http://h:99999"]
)
def test_a_bad_otlp_endpoint_argument_is_refused(endpoint: str) -> None:
    """configure(otlp_endpoint=...) refuses anything but an http(s) URL with a host, naming the option."""
    with pytest.raises(ValueError, match="otlp_endpoint"):
        oa.configure(otlp_endpoint=endpoint)


def _configure_in_child(env: dict[str, str], code: str = "") -> subprocess.CompletedProcess[str]:
    script = (
        "import otel_agents as oa\n"
        "t = oa.configure(logs=False)\n"
        "with oa.tool('t'):\n    pass\n"
        + code
        + "t.shutdown(5)\nprint('started', *t.options.exporters_for('traces'))\n"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    base.update({"PYTHONPATH": str(ROOT), **env})
    return subprocess.run(
        [sys.executable, "-c", script], env=base, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "name, value",
    [
        ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "5"),
        ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "abc"),
        ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "abc"),
        ("OTEL_ATTRIBUTE_COUNT_LIMIT", "-1"),
        ("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", "x"),
        ("OTEL_METRICS_EXEMPLAR_FILTER", "bogus"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "-3"),
        ("OTEL_AGENTS_MAX_QUEUE_BYTES", "12"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318"),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "not a url"),
        ("OTEL_BSP_SCHEDULE_DELAY", "1e30"),
        ("OTEL_BLRP_SCHEDULE_DELAY", "1e30"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "1e30"),
        ("OTEL_AGENTS_SHUTDOWN_TIMEOUT", "1e9"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "-5"),
        ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "1e30"),
        ("OTEL_METRIC_EXPORT_TIMEOUT", "abc"),
        ("OTEL_PROPAGATORS", "bogus"),
        ("OTEL_PROPAGATORS", "tracecontext,baggae"),
        ("OTEL_PROPAGATORS", "tracecontext,"),
    ],
)
def test_a_bad_environment_value_warns_and_falls_back(tmp_path: Path, name: str, value: str) -> None:
    """A variable the SDK or we cannot use is named in a warning and ignored; configure() still works,
    and no thread of ours dies of it (a huge delay once killed the workers: every span was lost)."""
    result = _configure_in_child(
        {name: value, "OTEL_AGENTS_HOME": str(tmp_path / "home")},
        "import time\ntime.sleep(0.3)\nassert t.force_flush(5)\n",
    )
    assert result.returncode == 0, result.stderr
    assert "started store" in result.stdout
    assert f"ignoring {name}=" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "name",
    ["schedule_delay", "log_schedule_delay", "metric_export_interval", "export_timeout", "shutdown_timeout"],
)
def test_a_duration_argument_past_a_week_is_refused(name: str) -> None:
    """A duration above seven days is a mistake (milliseconds given as seconds): configure() refuses it
    naming the option, where it once killed the pipeline's threads and lost every span after."""
    with pytest.raises(ValueError, match=f"{name}=.*at most 604800 seconds"):
        oa.configure(exporter="none", **{name: 10**30})


@pytest.mark.parametrize("kind", ["a file", "below a file"])
def test_a_bad_home_variable_starts_the_app_without_a_store(tmp_path: Path, kind: str) -> None:
    """OTEL_AGENTS_HOME naming a file (or a path below one) leaves the app running and says telemetry is not stored."""
    afile = tmp_path / "afile"
    afile.write_text("x")
    home = afile if kind == "a file" else afile / "sub"
    result = _configure_in_child({"OTEL_AGENTS_HOME": str(home)})
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout
    assert "cannot open the local store" in result.stderr and "not stored" in result.stderr


def test_a_bad_home_argument_fails_loudly(tmp_path: Path) -> None:
    """configure(home=<a file>) raises a ValueError naming the option."""
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(ValueError, match="home="):
        oa.configure(home=afile)


def test_a_corrupt_store_is_set_aside_and_replaced(
    make_pipeline: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A store whose header is garbage is renamed aside, a new store starts, and a warning says where."""
    home = tmp_path / "home"
    home.mkdir()
    paths.db_path(home).write_bytes(b"this is not a sqlite database, just garbage bytes" * 20)
    caplog.set_level(logging.WARNING, logger="otel_agents")
    captured = make_pipeline(exporter="store", home=home)
    with oa.tool("after"):
        pass
    captured.telemetry.force_flush(5)
    aside = [p for p in home.iterdir() if p.name.startswith("store.sqlite.broken-")]
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not a sqlite")
    assert any("kept as" in r.getMessage() for r in caplog.records)
    assert captured.telemetry.store is not None


@pytest.mark.parametrize("value", ["-5", "1e30"])
def test_an_unusable_otlp_timeout_falls_back_and_spans_still_arrive(otlp_receiver: Any, value: str) -> None:
    """An OTLP timeout of zero or less, or past what a socket takes, failed every export; it is
    named in a warning and dropped, and the spans reach the receiver."""
    result = _configure_in_child(
        {
            "OTEL_EXPORTER_OTLP_TIMEOUT": value,
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.endpoint,
            "OTEL_AGENTS_EXPORTER": "otlp",
        },
        "assert t.force_flush(5)\n",
    )
    assert result.returncode == 0, result.stderr
    assert "ignoring OTEL_EXPORTER_OTLP_TIMEOUT=" in result.stderr
    assert [s.name for s in otlp_receiver.spans()] == ["execute_tool t"]
