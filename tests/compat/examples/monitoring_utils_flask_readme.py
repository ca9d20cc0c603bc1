"""The shared monitoring utilities' README example for Flask, unchanged apart from the import line."""

from flask import Flask, request

from otel_agents.compat.monitoring_utils import (  # was: from monitoring_utils import (
    configure_metrics,
    get_request_logger,
    increment_counter,
    record_timer,
    register_health_check,
    setup_monitoring,
    trace,
)

configure_metrics(backend="prometheus", prefix="mailer", default_tags={"team": "growth"})

app = Flask(__name__)
setup_monitoring(app, service_name="mailer")


@register_health_check("smtp")
def smtp():
    return True


@trace("render_template")
def render(name: str) -> str:
    return f"Hello {name}"


@record_timer("send_seconds")
def send(body: str) -> int:
    return len(body)


@app.post("/send")
def send_mail():
    payload = request.get_json()
    get_request_logger(request_id=request.headers.get("X-Request-ID"), user_id=payload["user"]).info(
        "sending"
    )
    size = send(render(payload["name"]))
    increment_counter("emails_sent_total", tags={"template": "welcome"})
    return {"bytes": size}
