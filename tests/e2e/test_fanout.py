"""The shipped fan-out, for real: app -> otelcol-agents -> Jaeger, Prometheus and JSON files."""

from __future__ import annotations

import json
import re
import secrets
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.genai import DISABLE_GENAI_INSTRUMENTORS

from .conftest import (
    HOST,
    ROOT,
    Collector,
    Deps,
    Proc,
    Supervisor,
    collector_env,
    free_port,
    http_get,
    http_json,
    port_open,
    start_collector,
    start_jaeger,
    wait_until,
)

SERVICE = "agent-e2e"
# Looks like an API key to both redaction layers (otel_agents in-process, the collector).
SECRET = "sk-e2e" + "Q7f3L9x2M4k8P1r6T0w5Z3y7"
OUTAGE_REQUESTS = 12
OUTAGE_SECONDS = 8.0

pytestmark = pytest.mark.timeout(600)


@dataclass
class Stack:
    sup: Supervisor
    collector: Collector
    jaeger_query: str
    prometheus: str
    app: str
    app_proc: Proc
    workdir: Path
    # trace id -> response body, for the requests driven while everything was up
    runs: dict[str, dict[str, Any]]


def start_prometheus(sup: Supervisor, deps: Deps, col: Collector, workdir: Path) -> str:
    """Start Prometheus on the shipped config, re-pointed at this test's ports."""
    conf_dir = workdir / "prometheus"
    shutil.copytree(ROOT / "deploy/prometheus", conf_dir)
    text = (conf_dir / "prometheus.yml").read_text()
    assert "127.0.0.1:8889" in text and "127.0.0.1:8888" in text
    text = (
        text.replace("127.0.0.1:8889", col.prometheus_target)
        .replace("127.0.0.1:8888", col.telemetry_target)
        .replace("scrape_interval: 15s", "scrape_interval: 1s")
        .replace("evaluation_interval: 15s", "evaluation_interval: 1s")
    )
    (conf_dir / "prometheus.yml").write_text(text)
    port = free_port()
    proc = sup.start(
        "prometheus",
        [
            str(deps.prometheus),
            f"--config.file={conf_dir / 'prometheus.yml'}",
            f"--web.listen-address={HOST}:{port}",
            f"--storage.tsdb.path={workdir / 'prometheus-data'}",
        ],
    )
    url = f"http://{HOST}:{port}"
    wait_until(lambda: http_get(f"{url}/-/ready", 1)[0] == 200, 60, what=f"prometheus\n{proc.tail()}")
    return url


def start_app(sup: Supervisor, col: Collector, name: str = "app", **extra: str) -> tuple[str, Proc]:
    """Run examples/agent_service.py under opentelemetry-instrument, exporting OTLP/HTTP."""
    port = free_port()
    env = {
        "OTEL_SERVICE_NAME": SERVICE,
        "OTEL_EXPORTER_OTLP_ENDPOINT": col.otlp_http,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_LOGS_EXPORTER": "otlp",
        "OTEL_METRIC_EXPORT_INTERVAL": "1000",
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        # Long enough that the in-flight batch's retries outlast the outage test.
        "OTEL_AGENTS_EXPORT_TIMEOUT": "30",
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true",
        **DISABLE_GENAI_INSTRUMENTORS,
        **extra,
    }
    instrument = Path(sys.executable).parent / "opentelemetry-instrument"
    argv = [str(instrument), sys.executable, "-m", "uvicorn", "agent_service:app"]
    argv += ["--app-dir", str(ROOT / "examples"), "--host", HOST, "--port", str(port)]
    proc = sup.start(name, argv, env)
    url = f"http://{HOST}:{port}"
    wait_until(lambda: http_get(f"{url}/health", 1)[0] == 200, 60, what=f"app\n{proc.tail()}")
    return url, proc


def traceparent() -> tuple[str, str]:
    trace_id = secrets.token_hex(16)
    return trace_id, f"00-{trace_id}-{secrets.token_hex(8)}-01"


def run_request(
    app: str, question: str, timeout: float = 10.0, fail_tool: bool = False
) -> tuple[str, int, dict[str, Any]]:
    """POST /run under a caller-chosen trace id; returns (trace id, status, body)."""
    import urllib.error
    import urllib.request

    trace_id, parent = traceparent()
    payload = {"question": question, "note": f"customer key {SECRET}", "fail_tool": fail_tool}
    req = urllib.request.Request(
        f"{app}/run",
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "traceparent": parent},
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return trace_id, resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return trace_id, e.code, json.loads(e.read())


@pytest.fixture(scope="module")
def stack(deps: Deps, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Jaeger, the collector (with the Jaeger fragment), Prometheus and the app, all on loopback."""
    if not (ROOT / "examples/agent_service.py").exists():
        pytest.fail("examples/agent_service.py is missing: the end-to-end test drives it")
    workdir = tmp_path_factory.mktemp("fanout")
    sup = Supervisor(workdir)
    try:
        jaeger_otlp, jaeger_query = start_jaeger(sup, deps)
        col = start_collector(
            sup, Collector(collector_env(deps, workdir, OTEL_AGENTS_JAEGER_ENDPOINT=jaeger_otlp))
        )
        prometheus = start_prometheus(sup, deps, col, workdir)
        app, app_proc = start_app(sup, col)
        runs = {}
        for question in ("research our churn numbers", "write a reply to the customer"):
            trace_id, status, reply = run_request(app, question)
            assert status == 200, reply
            assert reply["trace_id"] == trace_id, "the server span must continue our traceparent"
            runs[trace_id] = reply
        # One run whose tool fails, so error metrics and error spans exist too.
        _, status, reply = run_request(app, "research a broken lookup", fail_tool=True)
        assert status == 502, reply
        yield Stack(sup, col, jaeger_query, prometheus, app, app_proc, workdir, runs)
    except BaseException:
        print(sup.logs(), file=sys.stderr)
        raise
    finally:
        sup.stop_all()


def jaeger_trace(stack: Stack, trace_id: str) -> dict[str, Any] | None:
    status, body = http_get(f"{stack.jaeger_query}/api/traces/{trace_id}", 2)
    if status != 200:
        return None
    data = json.loads(body).get("data") or []
    return data[0] if data else None


def complete_trace(stack: Stack, trace_id: str, timeout: float = 60) -> dict[str, Any]:
    """Wait until Jaeger has the trace with its server, agent, tool, LLM and routing spans."""

    def check() -> dict[str, Any] | None:
        trace = jaeger_trace(stack, trace_id)
        if trace is None:
            return None
        names = " ".join(s["operationName"] for s in trace["spans"])
        wanted = ("POST /run", "invoke_agent", "execute_tool", "chat", "route")
        return trace if all(w in names for w in wanted) else None

    return wait_until(check, timeout, what=f"complete trace {trace_id} in Jaeger")


def one(spans: list[dict[str, Any]], prefix: str, **attrs: str) -> dict[str, Any]:
    """The single span whose name starts with ``prefix`` and that has ``attrs``."""
    found = [
        s
        for s in spans
        if s["operationName"].startswith(prefix) and all(tags(s).get(k) == v for k, v in attrs.items())
    ]
    assert len(found) == 1, (prefix, attrs, [s["operationName"] for s in spans])
    return found[0]


def tags(span: dict[str, Any]) -> dict[str, Any]:
    return {t["key"]: t["value"] for t in span.get("tags", [])}


def parent_id(span: dict[str, Any]) -> str | None:
    refs = [r for r in span.get("references", []) if r["refType"] == "CHILD_OF"]
    return refs[0]["spanID"] if refs else None


def ancestors(span: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    chain = []
    current = by_id.get(parent_id(span) or "")
    while current is not None:
        chain.append(current)
        current = by_id.get(parent_id(current) or "")
    return chain


def test_jaeger_has_the_request_trace_with_correct_parenting(stack: Stack) -> None:
    """Jaeger returns each request's trace: server span above routing, agent, LLM and tool spans."""
    for trace_id in stack.runs:
        trace = complete_trace(stack, trace_id)
        spans = trace["spans"]
        by_id = {s["spanID"]: s for s in spans}
        services = {p["serviceName"] for p in trace["processes"].values()}
        assert services == {SERVICE}
        (server,) = [s for s in spans if tags(s).get("span.kind") == "server"]
        assert server["operationName"] == "POST /run"

        workflow = one(spans, "invoke_workflow")
        router = one(spans, "invoke_agent", **{"gen_ai.agent.name": "router"})
        route = one(spans, "route")
        target = tags(route)["otel_agents.route.target"]
        assert tags(route)["otel_agents.route.source"] == "router"
        assert target == stack.runs[trace_id]["route"]
        agent = one(spans, "invoke_agent", **{"gen_ai.agent.name": target})
        llm = one(spans, "chat")
        tool = one(spans, "execute_tool", **{"gen_ai.tool.name": "lookup_customer"})

        assert server in ancestors(workflow, by_id)
        assert parent_id(router) == workflow["spanID"]
        assert router in ancestors(route, by_id)
        assert parent_id(agent) == workflow["spanID"]
        assert parent_id(llm) == agent["spanID"]
        assert parent_id(tool) == agent["spanID"]
        assert tags(llm)["gen_ai.operation.name"] == "chat"
        # Both redaction layers must leave token counts alone.
        assert isinstance(tags(llm)["gen_ai.usage.input_tokens"], int)
        assert tags(llm)["gen_ai.usage.output_tokens"] == 42
        assert tags(tool)["gen_ai.operation.name"] == "execute_tool"
        assert tags(workflow)["otel_agents.run.id"] == stack.runs[trace_id]["run_id"]


def test_secrets_from_the_request_are_redacted(stack: Stack) -> None:
    """The API key sent in the request reaches neither Jaeger nor the files, and the note is masked."""
    for trace_id in stack.runs:
        trace = complete_trace(stack, trace_id)
        assert SECRET not in json.dumps(trace)
        (tool,) = [s for s in trace["spans"] if s["operationName"].startswith("execute_tool")]
        note = str(tags(tool)["app.tool.note"])
        assert note.startswith("customer key ") or note == "****", note
        assert SECRET[6:] not in note
    files = stack.collector.files
    wait_until(lambda: all(t in read_all(files) for t in stack.runs), 30, what="traces in files")
    assert SECRET not in read_all(files)


def read_all(directory: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in sorted(directory.glob("*.jsonl*")))


def file_trace_ids(path: Path, outer: str, middle: str, inner: str) -> set[str]:
    """Trace ids of the records in an OTLP/JSON lines file written by the file exporter."""
    ids = set()
    for line in path.read_text().splitlines() if path.exists() else []:
        for resource in json.loads(line).get(outer, []):
            for scope in resource.get(middle, []):
                ids.update(r.get("traceId", "") for r in scope.get(inner, []))
    return ids


def test_file_exporter_holds_the_same_trace_ids(stack: Stack) -> None:
    """traces.jsonl holds every trace id Jaeger has, and logs.jsonl the runs' correlated logs."""
    traces = stack.collector.files / "traces.jsonl"
    logs = stack.collector.files / "logs.jsonl"
    wait_until(
        lambda: set(stack.runs) <= file_trace_ids(traces, "resourceSpans", "scopeSpans", "spans"),
        30,
        what="trace ids in traces.jsonl",
    )
    # agent_service logs "run ... routed to ..." inside each run: same trace id in the logs.
    wait_until(
        lambda: set(stack.runs) <= file_trace_ids(logs, "resourceLogs", "scopeLogs", "logRecords"),
        30,
        what="trace ids in logs.jsonl",
    )
    for trace_id in stack.runs:
        complete_trace(stack, trace_id)
    assert (stack.collector.files / "metrics.jsonl").exists()


def prom_query(stack: Stack, query: str) -> list[dict[str, Any]]:
    from urllib.parse import quote

    reply = http_json(f"{stack.prometheus}/api/v1/query?query={quote(query)}")
    assert reply["status"] == "success", reply
    return list(reply["data"]["result"])


def test_prometheus_has_span_metrics_and_app_metrics_with_service_labels(stack: Stack) -> None:
    """Prometheus serves the collector's span metrics and the app's agent/tool/token/cost metrics."""
    for trace_id in stack.runs:
        complete_trace(stack, trace_id)
    svc = f'service_name="{SERVICE}"'
    wanted = {
        "span metrics": f'traces_span_metrics_calls_total{{{svc}, span_name=~"invoke_agent.*"}}',
        "span latency": f"traces_span_metrics_duration_milliseconds_count{{{svc}}}",
        "agent duration": f"gen_ai_invoke_agent_duration_seconds_count{{{svc}}}",
        "tool duration": f"gen_ai_execute_tool_duration_seconds_count{{{svc}}}",
        "tokens": f"gen_ai_client_token_usage_sum{{{svc}}}",
        "calls": f"otel_agents_calls_total{{{svc}}}",
        "cost": f'{{__name__=~"otel_agents_cost.*_total", {svc}}}',
    }
    for what, query in wanted.items():
        result = wait_until(lambda q=query: prom_query(stack, q), 60, what=f"{what}: {query}")
        for series in result:
            assert series["metric"]["service_name"] == SERVICE, series
            if what not in ("span metrics", "span latency"):
                assert series["metric"]["job"] == SERVICE, series
    tokens = prom_query(stack, f"sum(gen_ai_client_token_usage_sum{{{svc}}})")
    assert float(tokens[0]["value"][1]) > 0


def test_collector_outage_loses_nothing_and_requests_never_fail(stack: Stack) -> None:
    """While the collector is down the app answers every request, and after the restart every trace arrives."""
    col = stack.collector
    assert col.proc is not None
    col.proc.stop()
    assert not port_open(int(col.env["OTEL_AGENTS_COLLECTOR_OTLP_HTTP_PORT"]))
    started = time.monotonic()
    during: list[str] = []
    while len(during) < OUTAGE_REQUESTS:
        t0 = time.monotonic()
        trace_id, status, reply = run_request(stack.app, f"research outage #{len(during)}", 5)
        assert status == 200, reply
        # The app must not wait on the exporter: a request stays fast with no collector.
        assert time.monotonic() - t0 < 2.0
        during.append(trace_id)
        time.sleep(OUTAGE_SECONDS / OUTAGE_REQUESTS)
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - started)))
    col.proc.start()
    wait_until(col.healthy, 60, what="collector restart")
    for trace_id in during:
        complete_trace(stack, trace_id, timeout=90)
    wait_until(lambda: all(t in read_all(col.files) for t in during), 30, what="outage traces in files")
    assert stack.app_proc.running()
    # The app counts what it drops (full queue, failed export); the outage cost nothing.
    time.sleep(3)
    dropped = prom_query(stack, f'otel_agents_dropped_total{{service_name="{SERVICE}"}}')
    assert all(float(s["value"][1]) == 0 for s in dropped), dropped


def test_grafana_dashboard_queries_return_data(stack: Stack) -> None:
    """Every query of the shipped Grafana dashboard runs on the real Prometheus and finds data."""
    svc = f'service_name="{SERVICE}"'
    wait_until(lambda: prom_query(stack, f"otel_agents_calls_total{{{svc}}}"), 60, what="series")
    # rate() needs counters to grow after their first scrape: fresh traffic, one run failing.
    for question in ("research churn again", "write another reply"):
        assert run_request(stack.app, question)[1] == 200
    assert run_request(stack.app, "research a broken lookup", fail_tool=True)[1] == 502
    dashboard = json.loads((ROOT / "deploy/grafana/dashboards/otel-agents.json").read_text())
    variables = {"$job": ".*", "$service": ".*", "$__rate_interval": "1m"}

    def render(expr: str) -> str:
        for name, value in variables.items():
            expr = expr.replace(name, value)
        return expr

    def numbers(expr: str) -> dict[str, float]:
        """Series (by their labels) with a value other than NaN, e.g. a quantile of no data."""
        result = prom_query(stack, expr)
        return {json.dumps(r["metric"]): float(r["value"][1]) for r in result if r["value"][1] != "NaN"}

    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expr = render(target["expr"])
            if "otelcol_" in expr or "otel_agents_dropped" in expr:
                prom_query(stack, expr)  # drops: none happen here, so only check it parses
                continue
            wait_until(lambda e=expr: numbers(e), 60, what=f"{panel['title']}: {expr}")
    (panel,) = [p for p in dashboard["panels"] if p["title"] == "Tool error ratio"]
    expr = render(panel["targets"][0]["expr"])
    key = json.dumps({"gen_ai_tool_name": "lookup_customer"})
    ratio = wait_until(lambda: numbers(expr).get(key), 30, what="tool error ratio > 0")
    assert 0 < ratio <= 1


def test_collector_metric_names_in_alerts_and_dashboard_exist(stack: Stack) -> None:
    """Every collector self-metric the alerts and the dashboard use exists in Prometheus by that name."""
    for trace_id in stack.runs:
        complete_trace(stack, trace_id)
    texts = [
        (ROOT / "deploy/prometheus/alerts.yml").read_text(),
        (ROOT / "deploy/grafana/dashboards/otel-agents.json").read_text(),
    ]
    names = {n for text in texts for n in re.findall(r"\b(otelcol_[a-z_]+)\b", text)}
    # send_failed_* only exist once an exporter has given up on something: not here.
    always = {n for n in names if "send_failed" not in n}
    assert len(always) >= 4, names

    # Their siblings (otelcol_exporter_sent_*) share the naming scheme and do exist.
    wanted = always | {n.replace("send_failed", "sent") for n in names - always}

    def missing() -> set[str]:
        known = set(http_json(f"{stack.prometheus}/api/v1/label/__name__/values")["data"])
        return wanted - known

    wait_until(lambda: not missing(), 60, what=f"collector metrics {sorted(wanted)}")


def test_app_drops_reach_prometheus_under_the_alerted_name(stack: Stack) -> None:
    """Spans an app cannot deliver are counted as otel_agents_dropped_total{otel_agents_reason}."""
    # A second app whose traces go nowhere (a closed port) but whose metrics reach the
    # collector: its drop counter must arrive under the name the alert and the outage test use.
    svc = "agent-e2e-drops"
    app, _ = start_app(
        stack.sup,
        stack.collector,
        name="app-drops",
        OTEL_SERVICE_NAME=svc,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=f"http://{HOST}:{free_port()}/v1/traces",
        OTEL_AGENTS_EXPORT_TIMEOUT="1",
    )
    assert run_request(app, "research into the void")[1] == 200
    query = f'otel_agents_dropped_total{{service_name="{svc}"}}'

    def counted() -> list[dict[str, Any]]:
        return [s for s in prom_query(stack, query) if float(s["value"][1]) > 0]

    dropped = wait_until(counted, 60, what=query)
    assert all("otel_agents_reason" in s["metric"] for s in dropped), dropped


def test_app_exporting_over_grpc_reaches_jaeger(stack: Stack) -> None:
    """The same app exporting OTLP/gRPC instead of HTTP lands its whole trace in Jaeger."""
    app, _ = start_app(
        stack.sup,
        stack.collector,
        name="app-grpc",
        OTEL_EXPORTER_OTLP_PROTOCOL="grpc",
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://{stack.collector.otlp_grpc}",
    )
    trace_id, status, reply = run_request(app, "research over grpc")
    assert status == 200, reply
    trace = complete_trace(stack, trace_id)
    one(trace["spans"], "execute_tool", **{"gen_ai.tool.name": "lookup_customer"})
