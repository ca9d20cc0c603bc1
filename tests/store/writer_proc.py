"""A store writer process for the crash and concurrency tests; prints a line per acknowledged batch."""

# usage: writer_proc.py HOME TAG BATCHES SIZE   (BATCHES < 0: write until killed)

from __future__ import annotations

import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from store_spans import finished, plain_spans, provider

from otel_agents.api import _counters as stats
from otel_agents.store import open_store


def main() -> None:
    home, tag, batches, size = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    store = open_store(home)
    tp, mem = provider(service=tag)
    for b in itertools.count() if batches < 0 else range(batches):
        plain_spans(tp, size, tag=tag, batch=b)
        result = store.span_exporter.export(finished(mem))
        print(f"ack {b} {result.name}", flush=True)
    store.close()
    print(f"drops {sum(stats.drops().values())} errors {sum(stats.errors().values())}", flush=True)


if __name__ == "__main__":
    main()
