"""``otel-agents replay``: send stored spans to an OTLP/HTTP endpoint with the SDK's exporter."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from otel_agents.api._urls import masked
from otel_agents.cli._common import CliError, add_home, home_of, open_store_db, parse_time, progress
from otel_agents.cli._endpoint import configured_traces_endpoint, traces_url
from otel_agents.store import _queries as queries

EXAMPLE = """example:
  otel-agents replay --endpoint http://localhost:4318 --since 2h
  otel-agents replay --trace 4bf92f35        # uses OTEL_EXPORTER_OTLP_ENDPOINT
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "replay",
        help="send stored spans to an OTLP/HTTP endpoint (e.g. a collector that was down)",
        description="Send stored spans to an OTLP/HTTP endpoint (protobuf), oldest first.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_home(p)
    p.add_argument(
        "--endpoint",
        help="OTLP/HTTP base URL or traces URL (default: OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT)",
    )
    p.add_argument("--since", help="from: 30m, 2h, 7d ago, or ISO 8601 (default: everything)")
    p.add_argument("--until", help="to (same forms as --since)")
    p.add_argument("--trace", help="only this trace (id, prefix or run id)")
    p.add_argument("--batch-size", type=int, default=512, help="spans per request (default 512)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per request (default 10)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    endpoint = traces_url(args.endpoint) if args.endpoint else configured_traces_endpoint()
    if endpoint is None:
        raise CliError("no endpoint: pass --endpoint or set OTEL_EXPORTER_OTLP_ENDPOINT", code=2)
    conn = open_store_db(home_of(args))
    # None: every trace in the range; a run id names every trace the run was recorded in.
    trace_ids: list[str | None] = [None]
    if args.trace:
        try:
            trace_ids = list(queries.resolve_traces(conn, args.trace))
        except queries.AmbiguousId as exc:
            raise CliError(str(exc)) from None
        if not trace_ids:
            raise CliError(f"no trace or run {args.trace!r} in the store")
    since = parse_time(args.since) if args.since else None
    until = parse_time(args.until) if args.until else None
    # The SDK types replay rebuilds spans with cost ~30 ms to import: only this command needs them.
    from otel_agents.store import _replay as replay

    total = sum(replay.count(conn, since, until, t) for t in trace_ids)
    if total == 0:
        print("nothing to replay in that range")
        return 0

    from opentelemetry.sdk.trace.export import SpanExportResult

    from otel_agents.sdk._otlp_span_exporter import OTLPSpanExporter

    # The exporter logs a traceback per failed request; our one summary line is enough.
    logging.getLogger("opentelemetry.exporter.otlp").setLevel(logging.CRITICAL)
    exporter = OTLPSpanExporter(endpoint=endpoint, timeout=args.timeout)
    sent = failed = 0
    try:
        batches = (
            batch
            for t in trace_ids
            for batch in replay.batches(conn, since, until, t, size=max(args.batch_size, 1))
        )
        for batch in batches:
            if exporter.export(batch) is SpanExportResult.SUCCESS:
                sent += len(batch)
            else:
                failed += len(batch)
                if sent == 0:
                    break
            progress(f"  replayed {sent}/{total} spans" + (f" ({failed} failed)" if failed else ""))
    finally:
        exporter.shutdown()  # type: ignore[no-untyped-call]
    if failed:
        raise CliError(f"{masked(endpoint)} did not accept {failed} of {total} spans ({sent} sent)")
    print(f"replayed {sent} spans to {masked(endpoint)}")
    return 0
