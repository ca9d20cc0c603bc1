"""Puts canary secrets everywhere a value can enter otel-agents, then waits to be read and killed.

Run as a script: ``python canary_app.py READY_FILE METRICS_FILE``. Exports where the environment
says (the local store, or OTLP). Prints nothing itself; writes READY_FILE once everything is flushed.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opentelemetry._logs import LogRecord, get_logger
from opentelemetry.metrics import get_meter

import otel_agents as oa
from otel_agents import metrics as oa_metrics
from otel_agents.integrations import prometheus
from otel_agents.integrations.fastapi import setup_monitoring
from otel_agents.logs import structlog_processor

SK = "sk-canaryAAAAAAAAAAAAAAAAAAAAAA01"
PROJ = "sk-proj-canaryBBBBBBBBBBBBBBBBBB02"
AWS = "AKIACANARY0000000003"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJjYW5hcnkiOiIwNCJ9.Y2FuYXJ5c2lnbmF0dXJlMDQ"
BEARER = "Bearer canaryBearerToken05xyz"
PASSWORD = "alpha06 canarypw06 bravo06"
URL = "https://bob:canaryUrlPw07@db.example/x"
CARD = "4111 1111 1111 1111"

# Every shape a secret arrives in, each as a piece of text.
SHAPES = [
    f"key {SK}",
    f"key {PROJ}",
    f"aws {AWS}",
    f"jwt {JWT}",
    f"Authorization: {BEARER}",
    f"password={PASSWORD}",
    f'{{"password": "{PASSWORD}", "user": "bob"}}',
    f"{{'userPassword': '{PASSWORD}'}}",
    f"db.rootPassword: {PASSWORD}",
    f"dsn {URL}",
    f"card {CARD}",
]
# Needles that must never be found in a sink.
NEEDLES = [
    "canaryAAAA",
    "canaryBBBB",
    "CANARY0000000003",
    "eyJjYW5hcnki",
    "Y2FuYXJ5c2lnbmF0dXJl",
    "canaryBearerToken",
    "canarypw06",
    "alpha06",
    "bravo06",
    "canaryUrlPw07",
    "4111 1111 1111 1111",
    "4111111111111111",
]


class Carrier:
    """An object logged as a body through the OTel logs API: exporters send its ``str()``."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return f"carrier {self.text}"


def structured_bodies(text: str) -> list[object]:
    """Every shape the OTel logs API takes as a body, each holding ``text``."""
    deep: object = text
    for _ in range(12):
        deep = {"d": deep}
    return [
        [text, "ok"],
        (text,),
        [{"detail": text}],
        {"a": [[text]]},
        Carrier(text),
        {"err": Carrier(text)},
        deep,
        text.encode(),
    ]


def _raising(message: str) -> Callable[[], None]:
    def check() -> None:
        raise ConnectionError(message)

    return check


def _saying(message: str) -> Callable[[], tuple[bool, str]]:
    return lambda: (False, message)


def main(ready: Path, metrics_file: Path) -> None:
    # The app's own log output is its business (Python would print it without us too): it goes
    # to its own file, so stderr holds only what otel-agents and the SDK write.
    logging.basicConfig(filename=str(ready.with_name("app.log")), level=logging.INFO)
    app = FastAPI()
    monitoring = setup_monitoring(app, service_name="canary", logs=True)

    @app.get("/items/{item}")
    def item(item: str, q: str = "") -> dict[str, str]:
        with oa.tool("lookup") as t:
            t.set_attribute("query", q)
        return {"item": "ok"}

    structlog.configure(
        processors=[structlog_processor, structlog.stdlib.render_to_log_kwargs],
        logger_factory=structlog.stdlib.LoggerFactory(),
    )
    log = logging.getLogger("canary.app")
    slog = structlog.get_logger("canary.struct")
    otel_log = get_logger("canary.otel")
    app_counter = get_meter("canary.meter").create_counter("canary_calls")
    our_counter = oa_metrics.counter("canary_ours")
    # /health answers anyone: a failing check's exception text and a returned message hold secrets.
    for n, text in enumerate(SHAPES):
        monitoring.health.add(f"raises{n}", _raising(f"refused {text}"))
        monitoring.health.add(f"says{n}", _saying(f"db said {text}"))
    client = TestClient(app)
    for n, text in enumerate(SHAPES):
        with oa.run_context(run_id=text, session_id=text, user_id=text, request_id=text):
            with oa.workflow(f"w {text}", description=text) as w, oa.agent(f"a {text}", description=text):
                w.set_input(text)
                w.set_metadata(note=text)
                oa.route(f"r {text}", target=f"t {text}", candidates=[text], reason=text)
                with oa.tool(f"tool {text}", arguments={"q": text, text: 1}, call_id=text) as t:
                    t.set_attribute("note", text)
                    t.set_attribute(f"k {text}", 1)
                    t.set_attribute("list", [text, "ok"])
                    t.add_event(f"e {text}", {"detail": text, text: "v"})
                    t.set_result(text)
                    t.span.add_link(t.span.get_span_context(), {"why": text, "list": [text]})
                with oa.llm("gpt-4o-mini", provider="openai") as llm:
                    llm.set_messages(input=[{"role": "user", "content": text}], output=text)
                    llm.set_response(response_id=text, finish_reasons=[text])
                    llm.record_usage(input_tokens=3, output_tokens=1)
                try:
                    with oa.tool("failing"):
                        raise ValueError(f"rejected {text}")
                except ValueError:
                    pass
            log.warning(
                "message %s",
                text,
                extra={"ctx": {"inner": text, "password": PASSWORD}, "flat": text, f"k {text}": 1},
            )
            slog.warning(f"struct {text}", detail=text)
            for body in structured_bodies(text):
                otel_log.emit(LogRecord(body=body, attributes={"shape": type(body).__name__, "list": [text]}))
            otel_log.emit(LogRecord(body="event", event_name=f"event {text}"))
            otel_log.emit(LogRecord(body="keys", severity_text=f"sev {text}", attributes={f"k {text}": 1}))
            # Metric labels are text too: an app's own instrument, and one of ours.
            app_counter.add(1, {"note": text, "n": n})
            our_counter.add(1, labels={"note": text})
        client.get(
            f"/items/{n}",
            params={"q": text, "api_key": SK},
            headers={
                "Authorization": BEARER,
                "X-Api-Key": PROJ,
                "Cookie": f"session={AWS}",
                "baggage": f"session.id={SK},user.id={AWS}",
            },
        )
    client.get("/items/x", headers={"Host": f"{AWS}.example"})
    ready.with_name("health.json").write_bytes(client.get("/health").content)
    monitoring.telemetry.force_flush(10)
    body, _ = prometheus.render()
    metrics_file.write_bytes(body)
    ready.write_text("ok")
    time.sleep(120)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
