"""A fork while the store writer is mid-transaction never leaves the child's writes locked out."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

# The parent holds a write transaction open (under the writer's lock, as every export does) on
# another thread when it forks; the child then writes through its own connection.
SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, threading, time
    from pathlib import Path
    from otel_agents.store import _db as db
    from otel_agents.store._writer import StoreWriter

    writer = StoreWriter(Path(sys.argv[1]))
    inside = threading.Event()

    def export():
        with writer._lock:
            conn = writer._connection()
            with db.write_transaction(conn):
                inside.set()
                time.sleep(0.5)

    thread = threading.Thread(target=export)
    thread.start()
    inside.wait()
    pid = os.fork()
    if pid == 0:
        signal.alarm(20)
        started = time.monotonic()
        with writer._lock:
            conn = writer._connection()
            with db.write_transaction(conn):
                conn.execute("INSERT INTO counters VALUES ('drop', 'forked', 1, 1)")
        print(f"child wrote after {time.monotonic() - started:.2f} s", flush=True)
        os._exit(0)
    thread.join()
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))
    """
)


def test_a_child_forked_during_a_store_write_can_write(tmp_path: Path) -> None:
    """A child forked while its parent's writer holds a SQLite write transaction writes at once."""
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "home")],
        env={**os.environ, "OTEL_AGENTS_HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, (done.returncode, done.stdout, done.stderr[-2000:])
    seconds = float(done.stdout.split()[3])
    assert seconds < 2, done.stdout
