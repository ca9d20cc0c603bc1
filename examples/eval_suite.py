"""A tiny evaluation suite for CI: the support agent answers fixed questions (about 50 ms each).

    OTEL_SERVICE_NAME=support-bot OTEL_AGENTS_SERVICE_VERSION=2.0 python examples/eval_suite.py

Then ``otel-agents verify --service support-bot --version 2.0 --baseline ...`` judges the run
(docs/verify.md). ``--slow-ms`` and ``--fail-every`` simulate a regression. No network, no keys.
"""

from __future__ import annotations

import argparse
import contextlib
import time

import otel_agents as oa

QUESTIONS = ("reset my password", "refund order 1042", "change my plan", "export my data")


class AnswerFailed(RuntimeError):
    """The simulated knowledge-base lookup failed."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="how many questions to answer")
    parser.add_argument("--slow-ms", type=float, default=0.0, help="extra latency per run")
    parser.add_argument("--fail-every", type=int, default=0, help="fail every Nth run (0: never)")
    args = parser.parse_args()
    telemetry = oa.configure(service_name="support-bot")
    for i in range(args.runs):
        question = QUESTIONS[i % len(QUESTIONS)]
        with contextlib.suppress(AnswerFailed), oa.workflow("answer_ticket") as run:
            run.set_input(question)
            with oa.agent("support"):
                with oa.tool("kb_search") as kb:
                    time.sleep((50 + args.slow_ms) / 1000)
                    if args.fail_every and i % args.fail_every == 0:
                        raise AnswerFailed("knowledge base timed out")
                    kb.set_result({"articles": 2})
                with oa.llm("gpt-4o-mini", provider="openai") as call:
                    call.record_usage(input_tokens=300, output_tokens=60)
    telemetry.shutdown()
    print(f"answered {args.runs} questions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
