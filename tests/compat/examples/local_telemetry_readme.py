"""The local telemetry library's README examples, unchanged apart from the import line."""

from otel_agents.compat.local_telemetry import (
    TelemetryClient,  # was: from local_telemetry import TelemetryClient
)

# --- Quick start: explicit start / end ---------------------------------------------------
client = TelemetryClient()

run_id = client.start_run("seo_auditor", "daily_audit", trigger_type="cron", product="acme-web")
client.log_event(run_id, "page_crawled", {"url": "https://acme.test/pricing", "status": 200})
client.log_event(run_id, "page_crawled", {"url": "https://acme.test/blog", "status": 404})
client.end_run(run_id, status="success", items_discovered=120, items_succeeded=117, items_failed=3)

# --- The context manager sets success / failed for you -----------------------------------
with client.track_run("content_writer", "blog_batch") as ctx:
    ctx.log_event("draft_created", {"title": "Q3 launch"})
    ctx.set_metrics(
        items_discovered=5,
        items_succeeded=5,
        items_failed=0,
        input_summary="5 briefs from the Q3 content plan: launch, pricing, two case studies and a recap",
        output_summary="5 drafts, 5200 words",
        metrics_json={"words": 5200, "reading_minutes": 21},
        insight_id="ins-42",
        product="acme-web",
        platform="wordpress",
        product_family="marketing",
        subdomain="blog",
        git_repo="acme/site",
        git_branch="main",
    )

try:
    with client.track_run("link_checker", "weekly_check") as ctx:
        ctx.set_metrics(items_discovered=10, items_failed=10, error_summary="DNS failure for 10 hosts")
        raise ConnectionError("resolver down")
except ConnectionError:
    pass

# --- Stats, CSV export, health and backup -------------------------------------------------
stats = client.get_stats()
print(f"{stats['total_runs']} runs: {stats['runs_by_status']}")
print(f"exported {client.export_csv('runs.csv')} runs")
print(f"health: {client.health_check()['status']}")
print(f"backup: {client.backup_database('telemetry-backup')}")
