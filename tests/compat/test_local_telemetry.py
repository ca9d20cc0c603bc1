"""The local telemetry shim: its README runs unchanged into the store, the CLI and OTLP; bad input never raises."""

from __future__ import annotations

import csv
import socket
import sqlite3
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from otel_agents.api import _counters as stats
from otel_agents.api import _semconv as semconv
from otel_agents.compat.local_telemetry import TelemetryClient, TelemetryConfig, track_run
from otel_agents.integrations import prometheus
from tests.compat.conftest import Example, cli_json
from tests.conftest import reset_otel_globals
from tests.support.otlp_receiver import Receiver


def _rows(home: Path, sql: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(home / "store.sqlite")
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql)]
    finally:
        conn.close()


def test_readme_runs_into_the_store_and_the_cli(tmp_path: Path, example: Example) -> None:
    """The README example's three runs, with every set_metrics field, reach the store, `runs` and `stats`."""
    home = tmp_path / "telemetry"
    result = example("local_telemetry", tmp_path, {"TELEMETRY_BASE_DIR": str(home)})
    assert result.returncode == 0, result.stderr
    assert "3 runs: {'success': 2, 'failed': 1}" in result.stdout
    runs = {r["name"]: r for r in cli_json("runs", home=home)}  # type: ignore[union-attr]
    assert {n: r["status"] for n, r in runs.items()} == {
        "seo_auditor": "success",
        "content_writer": "success",
        "link_checker": "failed",
    }
    seo = runs["seo_auditor"]
    assert (seo["items_discovered"], seo["items_succeeded"], seo["items_failed"]) == (120, 117, 3)
    assert seo["metadata"] == {"job_type": "daily_audit", "trigger_type": "cron", "product": "acme-web"}
    writer = runs["content_writer"]
    assert writer["metrics"] == {"words": 5200, "reading_minutes": 21}
    assert writer["metadata"] == {
        "job_type": "blog_batch",
        "trigger_type": "cli",
        "insight_id": "ins-42",
        "product": "acme-web",
        "platform": "wordpress",
        "product_family": "marketing",
        "subdomain": "blog",
        "git_repo": "acme/site",
        "git_branch": "main",
    }
    brief = "5 briefs from the Q3 content plan: launch, pricing, two case studies and a recap"
    assert writer["input_summary"] == brief  # under 100 characters: the preview is the whole text
    assert writer["output_summary"] == "5 drafts, 5200 words"
    failed = runs["link_checker"]
    assert failed["error_type"] == "ConnectionError"
    assert failed["error_message"] == "DNS failure for 10 hosts"
    events = _rows(home, "SELECT name, attributes FROM events WHERE name = 'page_crawled'")
    payloads = [orjson.loads(orjson.loads(e["attributes"])[semconv.RUN_EVENT_PAYLOAD]) for e in events]
    assert sorted(p["status"] for p in payloads) == [200, 404]
    by_name = {r["name"]: r for r in cli_json("stats", home=home)}  # type: ignore[union-attr]
    assert by_name["link_checker"]["errors"] == 1 and by_name["seo_auditor"]["calls"] == 1
    with (tmp_path / "runs.csv").open() as fh:
        assert sorted(r["name"] for r in csv.DictReader(fh)) == sorted(runs)
    backup = tmp_path / "telemetry-backup"
    assert len(cli_json("runs", home=backup)) == 3  # type: ignore[arg-type]


def test_db_path_variable_chooses_the_store_directory(tmp_path: Path, example: Example) -> None:
    """TELEMETRY_DB_PATH puts the store in that file's directory (the database is store.sqlite there)."""
    home = tmp_path / "data"
    result = example("local_telemetry", tmp_path, {"TELEMETRY_DB_PATH": str(home / "store.sqlite")})
    assert result.returncode == 0, result.stderr
    assert len(_rows(home, "SELECT run_id FROM runs")) == 3


def test_metrics_api_posts_runs_over_otlp(tmp_path: Path, example: Example, otlp_receiver: Receiver) -> None:
    """With METRICS_API_ENABLED the runs are also sent as OTLP spans and metrics to METRICS_API_URL."""
    env = {
        "TELEMETRY_BASE_DIR": str(tmp_path / "t"),
        "METRICS_API_ENABLED": "true",
        "METRICS_API_URL": otlp_receiver.endpoint,
    }
    result = example("local_telemetry", tmp_path, env)
    assert result.returncode == 0, result.stderr
    names = {s.name for s in otlp_receiver.spans()}
    assert {"invoke_agent seo_auditor", "invoke_agent content_writer", "invoke_agent link_checker"} <= names
    assert semconv.METRIC_AGENT_DURATION in otlp_receiver.metric_names()
    assert len(_rows(tmp_path / "t", "SELECT run_id FROM runs")) == 3


def test_metrics_api_never_blocks_the_caller(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A remote endpoint that accepts but never answers does not hold up start_run/end_run."""
    # The process-wide Prometheus reader joins one meter provider per process; keep it for the others.
    monkeypatch.setattr(prometheus, "available", lambda: False)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    reset_otel_globals()
    client = TelemetryClient(
        TelemetryConfig(base_dir=tmp_path, metrics_api_enabled=True, metrics_api_url=url)
    )
    try:
        started = time.monotonic()
        for _ in range(50):
            client.end_run(client.start_run("a", "j"), items_discovered=1)
        client.telemetry.tracer_provider.force_flush(100)  # hands the batch to the remote queue
        elapsed = time.monotonic() - started
        # The OTLP exporter waits up to 5 s for an answer that never comes; the caller does not.
        assert elapsed < 2.0, elapsed
    finally:
        client.telemetry.shutdown(1)
        reset_otel_globals()
        silent.close()


def test_set_metrics_keeps_every_field(pipeline: Any) -> None:
    """Every set_metrics field, and unknown ones, lands on the run span; none is swallowed."""
    client = TelemetryClient()
    with client.track_run("agent", "job") as ctx:
        ctx.set_metrics(items_discovered=10, items_succeeded=9, items_failed=1, error_summary="1 timeout")
        ctx.set_metrics(metrics_json='{"pages": 10}', custom_score=0.7, git_branch="dev")
    attrs = pipeline.span("invoke_agent agent").attributes
    assert attrs[semconv.RUN_ITEMS_DISCOVERED] == 10 and attrs[semconv.RUN_ITEMS_FAILED] == 1
    assert attrs[semconv.RUN_ERROR_SUMMARY] == "1 timeout"
    assert orjson.loads(attrs[semconv.RUN_METRICS]) == {"pages": 10, "custom_score": 0.7}
    assert attrs[semconv.RUN_METADATA_PREFIX + "git_branch"] == "dev"
    assert attrs[semconv.RUN_STATUS] == "success"


def test_bad_input_is_logged_once_and_counted_never_raised(
    pipeline: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Unknown run ids, wrong types and bad metrics_json are counted and logged once; nothing raises."""
    client = TelemetryClient()
    client.log_event("no-such-run", "x", {})
    client.log_event(None, "x", {})  # type: ignore[arg-type]
    assert client.end_run("no-such-run") is False
    run_id = client.start_run(42, None)  # type: ignore[arg-type]
    client.end_run(run_id, status=None, items_discovered="ten", metrics_json="{not json")  # type: ignore[arg-type]
    with track_run("module_level", "job") as ctx:
        ctx.set_metrics(items_failed=object())
    errors = stats.errors()
    assert errors["compat.local_telemetry.log_event"] == 2
    assert errors["compat.local_telemetry.end_run"] == 4
    assert errors["compat.local_telemetry.start_run"] == 1
    assert errors["compat.local_telemetry.set_metrics"] == 1
    warnings = [
        r.getMessage() for r in caplog.records if "compat.local_telemetry.log_event" in r.getMessage()
    ]
    assert len(warnings) == 1
    assert {s.name for s in pipeline.spans()} >= {"invoke_agent 42", "invoke_agent module_level"}


@pytest.mark.parametrize(
    ("config", "error"),
    [
        (5, TypeError),
        ({"base_dir": "/tmp/x", "nope": 1}, TypeError),
        ({"metrics_api_enabled": True}, ValueError),
        ({"metrics_api_url": "ftp://x"}, ValueError),
        ({"base_dir": 3}, TypeError),
        ({"preview": "yes"}, TypeError),
    ],
)
def test_a_wrong_config_fails_loudly(config: object, error: type[Exception]) -> None:
    """TelemetryClient(config) with a wrong type or value raises at once, as configure() does."""
    with pytest.raises(error, match="TelemetryC"):
        TelemetryClient(config)  # type: ignore[arg-type]


def test_bad_environment_values_warn_and_fall_back(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bad METRICS_API_ENABLED or METRICS_API_URL warns and leaves remote posting off."""
    monkeypatch.setenv("METRICS_API_ENABLED", "maybe")
    assert TelemetryConfig.from_env().metrics_api_enabled is False
    monkeypatch.setenv("METRICS_API_ENABLED", "1")
    monkeypatch.setenv("METRICS_API_URL", "not-a-url")
    assert TelemetryConfig.from_env().metrics_api_enabled is False
    assert "METRICS_API_ENABLED" in caplog.text and "METRICS_API_URL" in caplog.text


def test_track_run_without_its_arguments_still_runs_the_block(pipeline: Any) -> None:
    """track_run() with its arguments missing is counted, and the block runs inside an "unknown" run."""
    client = TelemetryClient()
    ran = []
    with client.track_run() as ctx:  # type: ignore[call-arg]
        ran.append(ctx.run_id)
    assert ran and ran[0]
    assert stats.errors()["compat.local_telemetry.track_run"] == 1
    assert pipeline.span("invoke_agent unknown").attributes[semconv.RUN_STATUS] == "success"


def test_health_check_reports_a_missing_database(
    pipeline: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """health_check says unhealthy, naming the database check, when the store has no database; it never raises."""
    monkeypatch.setenv("OTEL_AGENTS_HOME", str(tmp_path / "nowhere"))
    (tmp_path / "nowhere").mkdir()
    (tmp_path / "nowhere" / "store.sqlite").mkdir()  # a directory where the database should be
    report = TelemetryClient().health_check()
    assert report["status"] == "unhealthy"
    assert report["checks"]["database"].startswith("error:")
    assert report["checks"]["writable"] == "ok"


class _Hostile:
    """A caller's object whose truth value, length and text all raise."""

    def __bool__(self) -> bool:
        raise RuntimeError("bool")

    def __len__(self) -> int:
        raise RuntimeError("len")

    def __str__(self) -> str:
        raise RuntimeError("str")


def test_hostile_names_and_stray_arguments_never_raise(pipeline: Any) -> None:
    """track_run with names whose __bool__/__str__ raise, and health_check(arg), run and are counted."""
    client = TelemetryClient()
    ran = []
    for tracked in (client.track_run, track_run):
        with tracked(_Hostile(), _Hostile()) as ctx:  # type: ignore[operator]
            ctx.set_metrics(items_discovered=1)
            ran.append(ctx.run_id)
    assert len(ran) == 2 and all(ran)
    assert stats.errors()["compat.local_telemetry.start_run"] == 2
    report = client.health_check("verbose")  # type: ignore[call-arg]
    assert report["status"] in ("healthy", "unhealthy") and "database" in report["checks"]
    assert stats.errors()["compat.local_telemetry.health_check"] == 1
