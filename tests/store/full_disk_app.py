"""An app that keeps working while its disk is full, then gets room back; prints what it counted."""

# usage: full_disk_app.py WORKFLOWS   (OTEL_AGENTS_HOME names the store)

from __future__ import annotations

import json
import logging
import resource
import sys

# Past this many bytes a file cannot grow (EFBIG, as ENOSPC on a full disk): the store is full.
FULL_AT = 200_000


def main() -> None:
    workflows = int(sys.argv[1])
    _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FULL_AT, hard))
    import otel_agents as oa
    from otel_agents.api import _counters as stats

    telemetry = oa.configure(service_name="full-disk", logs=True, max_queue_size=100_000)
    log = logging.getLogger("app.full_disk")
    done = 0
    for i in range(workflows):
        with oa.workflow("while-full"), oa.agent("a"):
            with oa.tool("t", arguments={"q": "x" * 200}) as t:
                t.set_result("y" * 300)
            log.warning("step %d %s", i, "z" * 100)
        done += 1
        if i % 100 == 0:
            telemetry.force_flush(5)
    telemetry.force_flush(5)
    while_full = dict(stats.drops())
    resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
    with oa.workflow("with-room"):
        pass
    telemetry.shutdown(5)
    print(
        json.dumps({"done": done, "while_full": while_full, "drops": stats.drops(), "errors": stats.errors()})
    )


if __name__ == "__main__":
    main()
