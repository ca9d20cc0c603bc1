"""The bundled demo: a small multi-agent support workflow recorded into the local store."""

from __future__ import annotations

import contextlib
import logging
import random
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from otel_agents.store import _paths as paths
from otel_agents.store import _queries as queries

_log = logging.getLogger("otel_agents.cli._demo")


@dataclass(frozen=True)
class Ticket:
    """One support ticket the demo workflow handles."""

    ticket_id: str
    text: str
    topic: str


TICKETS = (
    Ticket("T-1001", "I was charged twice for my March invoice", "billing"),
    Ticket("T-1002", "The export button crashes the desktop app", "technical"),
    Ticket("T-1003", "Please move my plan to annual billing", "billing"),
)
AGENTS = {"billing": "billing_agent", "technical": "tech_agent"}
# The third ticket meets a CRM outage: its tool call fails and so does the run.
FAILING_TICKET = "T-1003"


class CrmTimeout(TimeoutError):
    """The simulated CRM did not answer in time."""


def _pause(rnd: random.Random, low_ms: float, high_ms: float) -> None:
    time.sleep(rnd.uniform(low_ms, high_ms) / 1000)


def run_id(ticket: Ticket, session_id: str) -> str:
    """The run id of ``ticket`` in the demo session ``session_id`` (e.g. ``demo-T-1003-ab12``)."""
    return f"demo-{ticket.ticket_id}-{session_id.rsplit('-', 1)[-1]}"


def _handle(ticket: Ticket, rnd: random.Random, session_id: str) -> None:
    import otel_agents as oa

    with (
        # One run id per ticket and demo: a run id names one run, and a second demo is a new one.
        oa.run_context(run_id=run_id(ticket, session_id), session_id=session_id, user_id="demo-user"),
        oa.workflow("support_triage") as run,
    ):
        run.set_input(ticket.text)
        run.set_metadata(product="helpdesk", platform="demo", git_repo="otel-agents", git_branch="main")
        run.set_items(discovered=1)
        with oa.agent("router"):
            with oa.llm("gpt-4o-mini", provider="openai") as call:
                _pause(rnd, 20, 40)
                call.record_usage(input_tokens=rnd.randint(150, 260), output_tokens=rnd.randint(8, 20))
            target = AGENTS[ticket.topic]
            oa.route(
                "router",
                target=target,
                candidates=sorted(AGENTS.values()),
                reason=f"ticket is about {ticket.topic}",
                confidence=round(rnd.uniform(0.7, 0.97), 2),
            )
        with oa.agent(target):
            with oa.tool("kb_search", arguments={"query": ticket.text[:40]}) as kb:
                _pause(rnd, 5, 15)
                kb.set_result({"articles": rnd.randint(1, 4)})
            with oa.tool("crm_lookup", arguments={"ticket": ticket.ticket_id}) as crm:
                _pause(rnd, 5, 15)
                if ticket.ticket_id == FAILING_TICKET:
                    _log.warning("ticket %s: CRM lookup timed out, escalating", ticket.ticket_id)
                    raise CrmTimeout("CRM did not answer within 2s")
                crm.set_result({"plan": "pro", "since": 2023})
            with oa.llm("gpt-4o", provider="openai") as call:
                _pause(rnd, 40, 80)
                call.record_usage(input_tokens=rnd.randint(900, 1400), output_tokens=rnd.randint(120, 260))
        run.set_items(discovered=1, succeeded=1, failed=0)
        run.set_metrics({"reply_words": rnd.randint(60, 140), "kb_articles_used": 2})
        run.set_result("reply drafted")


def record(home: Path, *, seed: int = 7) -> str:
    """Run the demo workflow over :data:`TICKETS` into the store at ``home``; returns its session id."""
    import otel_agents as oa

    telemetry = oa.configure(service_name="otel-agents-demo", home=home, exporter="store")
    rnd = random.Random(seed)
    # Unique even for two demos in the same second: the summary selects this session's runs.
    session_id = f"demo-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
    for ticket in TICKETS:
        # A failure is recorded on the tool, agent and workflow spans; the demo goes on.
        with contextlib.suppress(CrmTimeout):
            _handle(ticket, rnd, session_id)
    telemetry.shutdown()
    return session_id


def main(home: Path | None = None, out: Callable[[str], None] = print, *, no_color: bool = False) -> int:
    """Record the demo, then show what was stored and the commands to try next."""
    from otel_agents.cli._cmd_runs import render
    from otel_agents.cli._common import open_store_db
    from otel_agents.cli._tables import Output

    target = home if home is not None else paths.default_home()
    # The demo is the application here and, like one, gives its log lines a format: the warning it
    # logs for the failing ticket then reads as the demo app's log, not as a stray stderr line.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("demo app log: %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        session_id = record(target)
    finally:
        root.removeHandler(handler)
    conn = open_store_db(target)
    rows = queries.runs(conn, queries.RunFilter(session_id=session_id), limit=len(TICKETS))
    spans = sum(len(queries.trace_spans(conn, r["trace_id"])) for r in rows)
    failed = [r for r in rows if r["status"] == "error"]
    out(f"Recorded {len(rows)} runs ({len(failed)} failed) with {spans} spans into {target}\n")
    out(render(rows, Output.detect(no_color=no_color)))
    flag = "" if home is None else f" --home {target}"
    example = (failed or rows or [{"trace_id": "TRACE_ID"}])[0]["trace_id"][:12]
    hints = [
        (f"otel-agents runs{flag}", "recent runs"),
        (f"otel-agents trace {example}{flag}", "the failed run as a tree"),
        (f"otel-agents graph{flag}", "who routed to whom, with hand-offs, errors and p95"),
        (f"otel-agents stats{flag}", "calls, errors, p50/p95, tokens, cost per agent, tool, model"),
        (f"otel-agents tail{flag}", "follow new spans as your app records them"),
        (f"otel-agents doctor{flag}", "configuration, store health, dropped records"),
        (f"otel-agents ui{flag}", "all of it in a browser, read-only, on 127.0.0.1"),
    ]
    width = max(len(cmd) for cmd, _ in hints)
    out("\nNext, try:")
    for cmd, what in hints:
        out(f"  {cmd.ljust(width)}   {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
