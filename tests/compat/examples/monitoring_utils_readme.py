"""The shared monitoring utilities' README example (FastAPI), unchanged apart from the import line."""

import os

from fastapi import FastAPI, Request

from otel_agents.compat.monitoring_utils import (  # was: from monitoring_utils import (
    check_database_connection,
    check_external_service,
    check_health,
    check_redis_connection,
    configure_logging,
    configure_metrics,
    extract_context_from_headers,
    gauge,
    get_logger,
    get_request_logger,
    histogram,
    increment_counter,
    inject_context_into_headers,
    record_timer,
    register_health_check,
    setup_monitoring,
    trace,
    tracer,
)

configure_logging(
    level="INFO", json_format=True, log_to_console=True, log_file="logs/lead-api.log", service_name="lead-api"
)
configure_metrics(backend="prometheus", prefix="leadapi", default_tags={"team": "growth"}, enabled=True)

app = FastAPI()
setup_monitoring(app, service_name="lead-api")
logger = get_logger(__name__)


@register_health_check("database")
def database():
    return check_database_connection(os.environ.get("DATABASE_URL", "sqlite:///leads.db"))


@register_health_check("redis")
def redis():
    return check_redis_connection(os.environ.get("REDIS_URL", "redis://localhost:6379/0"))


@register_health_check("crm")
def crm():
    return check_external_service(
        os.environ.get("CRM_HEALTH_URL", "https://crm.example.com/health"), timeout=2
    )


@trace("score_lead")
def score_lead(lead: dict) -> float:
    return 0.9 if lead.get("source") == "referral" else 0.4


@record_timer("lead_enrichment_seconds", tags={"provider": "clearbit"})
def enrich(lead: dict) -> dict:
    return {**lead, "company_size": 120}


@app.post("/leads")
async def create_lead(request: Request):
    lead = await request.json()
    log = get_request_logger(
        request_id=request.headers.get("x-request-id"),
        user_id=lead.get("owner"),
        session_id=request.headers.get("x-session-id"),
        ip_address=request.client.host,
    )
    log.info("lead received", source=lead.get("source"))
    increment_counter("leads_created_total", tags={"source": lead.get("source", "unknown")})
    histogram("lead_payload_bytes", len(str(lead)))
    gauge("leads_in_queue", 7, tags={"queue": "enrichment"})
    lead = enrich(lead)
    score = score_lead(lead)
    with tracer.start_as_current_span("notify_crm"):
        headers = inject_context_into_headers({})
    logger.info("lead scored", score=score)
    return {"score": score, "traceparent": headers["traceparent"]}


@app.post("/crm/callback")
async def crm_callback(request: Request):
    context = extract_context_from_headers(dict(request.headers))
    with tracer.start_as_current_span("crm_callback", context=context) as span:
        return {"trace_id": format(span.get_span_context().trace_id, "032x")}


@app.get("/status")
def status():
    return check_health()


@app.get("/status/{name}")
def status_of(name: str):
    return check_health(name)
