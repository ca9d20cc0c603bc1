"""SIGTERM ends a configured process promptly, flushed, even when CPython would run the handler late."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

# A thread the app started itself (SIGTERM open) takes SIGTERM while the main thread sleeps: CPython
# then runs the Python handler only when that sleep ends.
LATE_HANDLER = textwrap.dedent(
    """
    import signal, sys, threading, time
    import otel_agents as oa
    if sys.argv[1:] == ["reconfigured"]:
        oa.configure().shutdown()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    oa.configure(schedule_delay=30)
    for i in range(50):
        with oa.tool("step", call_id=str(i)):
            pass
    def take_it():
        time.sleep(0.3)
        signal.pthread_kill(threading.get_ident(), signal.SIGTERM)
    threading.Thread(target=take_it).start()
    print("ready", flush=True)
    time.sleep(60)
    print("slept through SIGTERM", flush=True)
    """
)

# configure(), then fork: the parent SIGTERMs its child and must itself live on.
FORKED = textwrap.dedent(
    """
    import os, signal, sys, threading, time
    import otel_agents as oa
    oa.configure(schedule_delay=30)
    def fork():
        pid = os.fork()
        if pid == 0:
            print("child wakeup fd", signal.set_wakeup_fd(-1), flush=True)
            time.sleep(60)
            os._exit(0)
        return pid
    if sys.argv[1:] == ["from-thread"]:
        forked = []
        thread = threading.Thread(target=lambda: forked.append(fork()))
        thread.start()
        thread.join()
        pid = forked[0]
    else:
        pid = fork()
    time.sleep(0.5)
    os.kill(pid, signal.SIGTERM)
    _, status = os.waitpid(pid, 0)
    time.sleep(1.5)
    print("parent alive, child", os.waitstatus_to_exitcode(status), flush=True)
    """
)


# SIGTERM arrives while the main thread is inside a queue's put(), at the call that starts the
# worker (argv "start", the first span) or the one that wakes it (the 16th): the handler then runs
# on top of that frame, with whatever put() took still held.
IN_PUT = textwrap.dedent(
    """
    import os, signal, sys
    import otel_agents as oa
    from otel_agents.sdk._batching import BatchWorker
    oa.configure(schedule_delay=30)
    put = BatchWorker.put.__code__
    quiet = {"_start", "_due_by_time", "_size", "span_text_bytes"}
    sent = []
    def tracer(frame, event, arg):
        if event != "call" or sent or frame.f_back is None or frame.f_back.f_code is not put:
            return None
        name = frame.f_code.co_name
        if (name == "_start") == (sys.argv[1] == "start") and name not in quiet - {"_start"}:
            sent.append(name)
            print("signalled in", sent[0], flush=True)
            os.kill(os.getpid(), signal.SIGTERM)
        return None
    sys.settrace(tracer)
    for i in range(40):
        with oa.tool("step", call_id=str(i)):
            pass
    sys.settrace(None)
    print("outlived SIGTERM", flush=True)
    """
)


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    return {**env, "OTEL_AGENTS_HOME": str(tmp_path / "home")}


@pytest.mark.parametrize("argv", [[], ["reconfigured"]])
def test_sigterm_taken_outside_the_main_thread_still_flushes_and_ends_the_process(
    tmp_path: Path, argv: list[str]
) -> None:
    """A SIGTERM whose handler CPython would defer until the main thread's 60 s sleep ends stores
    every span and ends the process by SIGTERM within seconds, also after a reconfigure."""
    proc = subprocess.Popen(
        [sys.executable, "-c", LATE_HANDLER, *argv],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    started = time.monotonic()
    try:
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    took = time.monotonic() - started
    assert took < 15 and proc.returncode == -15, (took, proc.returncode, out, err[-3000:])
    with sqlite3.connect(tmp_path / "home" / "store.sqlite") as db:
        assert db.execute("SELECT count(*) FROM spans WHERE name = 'execute_tool step'").fetchone()[0] == 50


@pytest.mark.parametrize(("where", "ended"), [("start", 1), ("wake", 16)])
def test_sigterm_inside_a_queues_put_ends_the_process_at_once_with_every_span_stored(
    tmp_path: Path, where: str, ended: int
) -> None:
    """A SIGTERM handled while the main thread is inside a queue's put(), as it starts or wakes the
    worker, stores every span ended so far, drops none, and ends the process by SIGTERM well within
    the shutdown budget (the handler's shutdown waited out its 5 s for the lock put() held)."""
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", IN_PUT, where],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    took = time.monotonic() - started
    assert proc.returncode == -15, (proc.stdout, proc.stderr[-3000:])
    assert "signalled in" in proc.stdout and "outlived" not in proc.stdout, proc.stdout
    with sqlite3.connect(tmp_path / "home" / "store.sqlite") as db:
        stored = db.execute("SELECT count(*) FROM spans WHERE name = 'execute_tool step'").fetchone()[0]
        drops = dict(db.execute("SELECT reason, count FROM counters WHERE kind = 'drop'").fetchall())
    # The chain's queue starts its worker at its first span and wakes it at its 16th; the handler
    # may run a span or two later, and every span ended by then is stored.
    assert stored >= ended and drops == {}, (stored, drops, proc.stdout)
    assert took < 4, took


def test_someone_elses_wakeup_fd_is_left_alone(tmp_path: Path) -> None:
    """An app that set signal.set_wakeup_fd before configure() keeps its own fd."""
    script = textwrap.dedent(
        """
        import os, signal
        r, w = os.pipe2(os.O_NONBLOCK)
        signal.set_wakeup_fd(w)
        import otel_agents as oa
        oa.configure()
        print(signal.set_wakeup_fd(-1) == w)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=_env(tmp_path), capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() == "True", done.stderr


@pytest.mark.parametrize("argv", [[], ["from-thread"]])
def test_a_forked_childs_sigterm_never_reaches_the_parent(tmp_path: Path, argv: list[str]) -> None:
    """A child forked after configure() (from the main thread or another) has no wakeup fd of ours,
    and its SIGTERM leaves the parent alive."""
    done = subprocess.run(
        [sys.executable, "-c", FORKED, *argv], env=_env(tmp_path), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["child wakeup fd -1", "parent alive, child -15"], done.stderr
