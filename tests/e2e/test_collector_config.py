"""The bundled collector configs validate cleanly, and their pipeline redacts and writes files."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import (
    HOST,
    ROOT,
    Collector,
    Deps,
    Supervisor,
    collector_env,
    http_post,
    start_collector,
    wait_until,
)

COLLECTOR_DIR = ROOT / "collector"
# Lines a clean config must not produce (deprecated type names, unknown keys, ...).
NOISE = re.compile(r"deprecat|\bwarn", re.IGNORECASE)
READY = "Everything is ready"

VARIANTS = {
    "bundled": {},
    "bundled+jaeger+tempo": {
        "OTEL_AGENTS_JAEGER_ENDPOINT": "127.0.0.1:4417",
        "OTEL_AGENTS_TEMPO_ENDPOINT": "127.0.0.1:4517",
    },
    "bundled+remote_write+debug": {
        "OTEL_AGENTS_PROMETHEUS_REMOTE_WRITE_URL": "http://127.0.0.1:9090/api/v1/write",
        "OTEL_AGENTS_COLLECTOR_DEBUG": "1",
    },
    "bundled+loadbalancing": {
        "OTEL_AGENTS_GATEWAY_ENDPOINTS": "[127.0.0.1:14317, 127.0.0.1:14417]",
    },
    "gateway": {
        "OTEL_AGENTS_COLLECTOR_CONFIG": str(COLLECTOR_DIR / "gateway.yaml"),
        "OTEL_AGENTS_TRACES_BACKEND_ENDPOINT": "127.0.0.1:4417",
    },
}


def run_sh(deps: Deps, tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(COLLECTOR_DIR / "run.sh"), *args],
        env={**os.environ, **collector_env(deps, tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_config_validates_and_starts_without_warnings(
    deps: Deps, tmp_path: Path, supervisor: Supervisor, variant: str
) -> None:
    """Each shipped config combination validates and starts up with no warning or deprecation."""
    proc = run_sh(deps, tmp_path, VARIANTS[variant], "validate")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert not [line for line in output.splitlines() if NOISE.search(line)], output
    # Deprecated component names are only reported while the pipelines are built, so
    # `validate` alone would pass them: start the collector and read its start-up log.
    env = {**collector_env(deps, tmp_path), **VARIANTS[variant]}
    started = supervisor.start("collector", ["bash", str(COLLECTOR_DIR / "run.sh")], env)
    wait_until(lambda: READY in started.log.read_text(), 30, what=f"ready\n{started.tail()}")
    startup = started.log.read_text().split(READY)[0]
    # gRPC's own connection logs only say that no backend listens at the test endpoints.
    noisy = [line for line in startup.splitlines() if NOISE.search(line) and '"grpc_log": true' not in line]
    assert not noisy, "\n".join(noisy)


def test_run_sh_adds_fragments_only_when_asked(deps: Deps, tmp_path: Path) -> None:
    """run.sh merges a backend's fragment exactly when that backend's endpoint is set."""
    bare = run_sh(deps, tmp_path, {}, "print-args").stdout.split()
    assert [Path(a).name for a in bare if a != "--config"] == ["config.yaml"]
    env = VARIANTS["bundled+jaeger+tempo"]
    both = run_sh(deps, tmp_path, env, "print-args").stdout.split()
    assert [Path(a).name for a in both if a != "--config"] == [
        "config.yaml",
        "jaeger.yaml",
        "tempo.yaml",
    ]


def test_distribution_has_every_manifest_component(deps: Deps) -> None:
    """The built binary contains each component the manifest lists, under its snake_case name."""
    out = subprocess.run(
        [str(deps.collector), "components"], capture_output=True, text=True, check=True
    ).stdout
    expected = {
        "otlp", "memory_limiter", "transform", "redaction", "filter", "attributes", "resource",
        "tail_sampling", "span_metrics", "forward", "prometheus", "prometheus_remote_write",
        "otlp_grpc", "otlp_http", "file", "debug", "load_balancing", "health_check", "pprof",
        "zpages", "file_storage",
    }  # fmt: skip
    names = set(re.findall(r"^\s*-?\s*name:\s*(\S+)", out, re.MULTILINE))
    assert expected <= names, f"missing: {sorted(expected - names)}\n{out}"


def test_no_host_config_listens_on_all_interfaces() -> None:
    """No config meant to run on a host binds 0.0.0.0; they all default to 127.0.0.1."""
    # deploy/compose and deploy/k8s bind inside a container network only, on purpose.
    dirs = [COLLECTOR_DIR, *(ROOT / "deploy" / d for d in ("jaeger", "prometheus", "tempo"))]
    files = [f for d in dirs for f in d.rglob("*") if f.suffix in (".yaml", ".yml", ".sh")]
    assert len(files) >= 10
    offenders = [str(f) for f in files if "0.0.0.0" in f.read_text()]
    assert not offenders


def otlp_value(value: str | int) -> dict[str, str]:
    return {"intValue": str(value)} if isinstance(value, int) else {"stringValue": value}


def otlp_trace(
    trace_id: str, attributes: dict[str, str | int], name: str = "execute_tool probe", kind: int = 1
) -> bytes:
    now = time.time_ns()
    return json.dumps(
        {
            "resourceSpans": [
                {
                    "resource": {
                        "attributes": [{"key": "service.name", "value": {"stringValue": "redaction-probe"}}]
                    },
                    "scopeSpans": [
                        {
                            "spans": [
                                {
                                    "traceId": trace_id,
                                    "spanId": "00f067aa0ba902b7",
                                    "name": name,
                                    "kind": kind,
                                    "startTimeUnixNano": str(now - 5_000_000),
                                    "endTimeUnixNano": str(now),
                                    "attributes": [
                                        {"key": k, "value": otlp_value(v)} for k, v in attributes.items()
                                    ],
                                }
                            ]
                        }
                    ],
                }
            ]
        }
    ).encode()


def test_collector_redacts_secrets_and_writes_json_files(
    deps: Deps, tmp_path: Path, supervisor: Supervisor
) -> None:
    """Secrets in span attributes are masked by the collector before any exporter sees them."""
    col = start_collector(supervisor, Collector(collector_env(deps, tmp_path)))
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    secret_value = "sk-proj-abcdefghijklmnopqrstuvwx0123456789"
    body = otlp_trace(
        trace_id,
        {
            "gen_ai.tool.name": "lookup",
            "tool.input": f"please use key {secret_value} for this",
            "http.request.header.authorization": "Basic dXNlcjpwYXNz",
            "harmless": "keep me",
            "gen_ai.token.type": "input",
            "gen_ai.usage.input_tokens": 812,
        },
    )
    status, reply = http_post(f"{col.otlp_http}/v1/traces", body, "application/json")
    assert status == 200, reply

    traces = col.files / "traces.jsonl"

    def written() -> str:
        text = traces.read_text() if traces.exists() else ""
        return text if trace_id in text else ""

    text = wait_until(written, 20, what="trace in traces.jsonl")
    assert secret_value not in text
    assert "dXNlcjpwYXNz" not in text
    assert "keep me" in text
    span = json.loads(text.splitlines()[-1])["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    attrs = {a["key"]: a["value"] for a in span["attributes"]}
    assert attrs["redaction.masked.count"]["intValue"] in ("2", 2)
    # Over-redaction would blind the dashboards: counts and token types stay readable.
    assert attrs["gen_ai.usage.input_tokens"] == {"intValue": "812"}
    assert attrs["gen_ai.token.type"] == {"stringValue": "input"}
    assert HOST in col.otlp_http


def test_collector_drops_health_check_spans(deps: Deps, tmp_path: Path, supervisor: Supervisor) -> None:
    """Server spans of GET /health are filtered out; other server spans pass."""
    col = start_collector(supervisor, Collector(collector_env(deps, tmp_path)))
    health, run = "11111111111111111111111111111111", "22222222222222222222222222222222"
    for trace_id, route in ((health, "/health"), (run, "/run")):
        body = otlp_trace(trace_id, {"http.route": route}, name=f"GET {route}", kind=2)
        status, reply = http_post(f"{col.otlp_http}/v1/traces", body, "application/json")
        assert status == 200, reply
    traces = col.files / "traces.jsonl"
    text = wait_until(lambda: run in (traces.read_text() if traces.exists() else ""), 20, what="/run span")
    assert health not in traces.read_text(), text
