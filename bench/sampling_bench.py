"""What counting unsampled spans costs under head sampling: time per workflow, one process per variant.

Run: ``.venv/bin/python -m bench.sampling_bench`` (about 20 s). Each workflow is four spans (workflow,
agent, LLM call with usage, tool) into the local store in a temporary home; each variant's time
includes flushing the pipeline, so the work the chain and the store do on their threads is counted.

Variants: ``always_on`` (everything recorded and exported), ``ratio_record`` (traceidratio 0.25, the
default ``record_unsampled=True``: every span feeds metrics, runs and stats, a quarter are exported),
``ratio_drop`` (traceidratio 0.25, ``record_unsampled=False``: the SDK's behaviour, undercounting).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

VARIANTS = {
    "always_on": ({"OTEL_TRACES_SAMPLER": "always_on"}, True),
    "ratio_record": ({"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"}, True),
    "ratio_drop": ({"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"}, False),
}


def run_variant(name: str, n: int, rounds: int) -> dict[str, float]:
    import otel_agents as oa

    _, record = VARIANTS[name]
    telemetry = oa.configure(exporter="store", record_unsampled=record, metric_export_interval=3600)

    def workflow(i: int) -> None:
        with oa.workflow("w"), oa.agent("a"):
            with oa.llm("gpt-4o-mini", provider="openai") as call:
                call.record_usage(input_tokens=100, output_tokens=10)
            with oa.tool("t", arguments={"q": i}):
                pass

    for i in range(200):  # warm-up
        workflow(i)
    telemetry.force_flush(30)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for i in range(n):
            workflow(i)
        telemetry.force_flush(60)
        times.append((time.perf_counter() - start) / n * 1e6)
    telemetry.shutdown(10)
    return {"us_per_workflow": statistics.median(times)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--variant")
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(run_variant(args.variant, args.n, args.rounds)))
        return
    results = {}
    for name, (env, _) in VARIANTS.items():
        with tempfile.TemporaryDirectory() as home:
            run_env = {**os.environ, **env, "OTEL_AGENTS_HOME": home}
            out = subprocess.run(
                [sys.executable, "-m", "bench.sampling_bench", "--variant", name, "-n", str(args.n),
                 "--rounds", str(args.rounds)],
                capture_output=True, text=True, check=True, env=run_env,
            )  # fmt: skip
            results[name] = json.loads(out.stdout.strip().splitlines()[-1])["us_per_workflow"]
    base = results["always_on"]
    print(f"{'variant':<14} {'us/workflow':>12} {'vs always_on':>13}")
    for name, us in results.items():
        print(f"{name:<14} {us:>12.1f} {us / base:>13.2f}")
    print(f"ratio_record / ratio_drop: {results['ratio_record'] / results['ratio_drop']:.2f}")


if __name__ == "__main__":
    main()
