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
