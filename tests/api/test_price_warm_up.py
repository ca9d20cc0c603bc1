"""The price table loads in the background: no caller waits for it, and costs still land everywhere."""

from __future__ import annotations

import json
import marshal
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# Configures, then prices an oa.llm call and a foreign (contrib-dialect) call inside one agent at
# once, while the table is still loading; prints what it saw.
SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    from opentelemetry import trace
    import otel_agents as oa
    from otel_agents.api import _price_table as table
    from otel_agents.api import _pricing as pricing

    # A second more of loading: a workflow that does not wait (a few ms) cannot straddle the load's
    # end, as it could when configure() returned just before the table was ready.
    load = table.preload
    table.preload = lambda: (time.sleep(1), load())
    tel = oa.configure(service_name="warm-up")
    seen = {"loading_at_call": pricing.loading()}
    started = time.perf_counter()
    with oa.workflow("answer"):
        with oa.agent("support"):
            with oa.llm("gpt-4o-mini", provider="openai") as call:
                call.record_usage(input_tokens=1000, output_tokens=100)
            tracer = trace.get_tracer("opentelemetry.instrumentation.openai_v2")
            with tracer.start_as_current_span(
                "chat gpt-4o-mini",
                kind=trace.SpanKind.CLIENT,
                attributes={
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.usage.input_tokens": 1000,
                    "gen_ai.usage.output_tokens": 100,
                },
            ):
                pass
    seen["workflow_s"] = time.perf_counter() - started
    seen["loading_after"] = pricing.loading()
    tel.shutdown()
    print(json.dumps(seen))
    """
)

ONE_CALL = (1000 * 0.15 + 100 * 0.6) / 1e6


def run(script: str, tmp_path: Path, **env: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={
            **os.environ,
            "OTEL_AGENTS_HOME": str(tmp_path / "home"),
            "XDG_CACHE_HOME": str(tmp_path / "cache"),
            "PYTHONDONTWRITEBYTECODE": "1",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def costs(home: Path) -> dict[str, float | None]:
    with sqlite3.connect(home / "store.sqlite") as db:
        rows = db.execute("SELECT scope_name, name, cost_usd FROM spans ORDER BY id").fetchall()
    return {f"{name} ({'ours' if scope == 'otel_agents' else 'foreign'})": cost for scope, name, cost in rows}


def test_calls_priced_while_the_table_loads_get_their_cost_on_every_span(tmp_path: Path) -> None:
    """Calls made right after configure() do not wait for the table, yet the LLM spans, the agent and
    the workflow all carry the right cost once exported."""
    seen = run(SCRIPT, tmp_path)
    assert seen["loading_at_call"] is True, "the table loaded before the call: this test proves nothing"
    assert seen["loading_after"] is True, "the workflow waited for the table"
    found = costs(tmp_path / "home")
    assert found["chat gpt-4o-mini (ours)"] == pytest.approx(ONE_CALL)
    assert found["chat gpt-4o-mini (foreign)"] == pytest.approx(ONE_CALL)
    assert found["invoke_agent support (ours)"] == pytest.approx(2 * ONE_CALL)
    assert found["invoke_workflow answer (ours)"] == pytest.approx(2 * ONE_CALL)


def test_the_table_is_compiled_in_a_child_process_and_cached_for_this_user_only(tmp_path: Path) -> None:
    """The table's bytecode comes from a child process and is cached 0600 in a 0700 folder; the next
    process reads it from there, and it is the real table."""
    script = textwrap.dedent(
        """
        import importlib.util, sys, types
        from pathlib import Path
        from otel_agents.api import _price_table as t
        spec = importlib.util.find_spec(t.TABLE_MODULE)
        code = t._cached_code(Path(spec.origin))
        module = types.ModuleType("genai_prices.table")
        module.__package__ = "genai_prices"
        exec(code, module.__dict__)
        print(len(module.providers) > 10)
        """
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONDONTWRITEBYTECODE": "1"}
    first = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert first.stdout.strip() == "True", first.stderr
    folder = tmp_path / "cache" / "otel-agents" / "bytecode"
    [cached] = list(folder.iterdir())
    assert folder.stat().st_mode & 0o777 == 0o700
    assert cached.stat().st_mode & 0o777 == 0o600
    mtime = cached.stat().st_mtime_ns
    again = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert again.stdout.strip() == "True", again.stderr
    assert cached.stat().st_mtime_ns == mtime


def test_a_cache_file_others_can_write_is_never_executed(tmp_path: Path) -> None:
    """Bytecode in a group- or world-writable cache file is ignored (and prices still work)."""

    folder = tmp_path / "cache" / "otel-agents" / "bytecode"
    folder.mkdir(parents=True, mode=0o700)
    planted = tmp_path / "planted"
    hostile = compile(f"open({str(planted)!r}, 'w').write('ran')", "x", "exec")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONDONTWRITEBYTECODE": "1"}
    name = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
            import importlib.util, sys
            from pathlib import Path
            from otel_agents.api import _price_table as t
            s = importlib.util.find_spec(t.TABLE_MODULE); info = Path(s.origin).stat()
            print(f"{t.TABLE_MODULE}-{sys.implementation.cache_tag}-"
                  f"{importlib.util.MAGIC_NUMBER.hex()}-{info.st_size}-{info.st_mtime_ns}.marshal")
            """
            ),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    target = folder / name
    target.write_bytes(marshal.dumps(hostile))
    target.chmod(0o666)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from otel_agents.api._pricing import cost_usd; from otel_agents.api import _price_table as t;"
            "t.preload(); print(cost_usd('gpt-4o-mini', 'openai', input_tokens=1000) is not None)",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.stdout.strip() == "True", done.stderr
    assert not planted.exists()


FREEZE = textwrap.dedent(
    """
    import gc, sys
    import otel_agents as oa
    from otel_agents.api import _pricing as pricing

    tel = oa.configure(service_name="freeze", **({"freeze_gc": False} if sys.argv[1:] == ["off"] else {}))
    assert pricing.wait_loaded(60)
    print(gc.get_freeze_count())
    tel.shutdown()
    """
)


@pytest.mark.parametrize(
    ("argv", "env", "frozen"),
    [((), {}, True), (("off",), {}, False), ((), {"OTEL_AGENTS_FREEZE_GC": "false"}, False)],
)
def test_the_loaded_table_leaves_the_collectors_scans_unless_turned_off(
    tmp_path: Path, argv: tuple[str, ...], env: dict[str, str], frozen: bool
) -> None:
    """Once the table is in, gc.freeze() has moved it (tens of thousands of objects) out of the full
    collections' scans; freeze_gc=False or OTEL_AGENTS_FREEZE_GC=false leaves the collector alone."""
    done = subprocess.run(
        [sys.executable, "-c", FREEZE, *argv],
        env={**os.environ, "OTEL_AGENTS_HOME": str(tmp_path / "home"), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    count = int(done.stdout.strip().splitlines()[-1])
    assert (count > 30_000) if frozen else (count == 0), count


# Configures with a price table that takes 30 s to load, prices a call (deferred), and shuts down
# with a 3 s budget.
SLOW_TABLE = textwrap.dedent(
    """
    import json, time
    from otel_agents.api import _price_table as table
    from otel_agents.api import _pricing as pricing
    import otel_agents as oa

    load = table.preload
    table.preload = lambda: (time.sleep(30), load())
    tel = oa.configure(service_name="slow-table")
    with oa.llm("gpt-4o-mini", provider="openai") as call:
        call.record_usage(input_tokens=1000, output_tokens=100)
    started = time.monotonic()
    tel.shutdown(timeout=3)
    print(json.dumps({"loading": pricing.loading(), "shutdown_s": time.monotonic() - started}))
    """
)


def test_a_shutdown_during_the_table_load_stays_in_bound_and_stores_the_call_unpriced(tmp_path: Path) -> None:
    """A shutdown while the price table is still loading does not wait for it past its budget: the
    deferred call is stored with its cost unknown, and that is counted."""
    seen = run(SLOW_TABLE, tmp_path)
    assert seen["loading"] is True, "the table loaded: this test proves nothing"
    assert seen["shutdown_s"] < 3.5
    home = tmp_path / "home"
    assert costs(home) == {"chat gpt-4o-mini (ours)": None}
    with sqlite3.connect(home / "store.sqlite") as db:
        counted = dict(db.execute("SELECT reason, count FROM counters WHERE kind = 'drop'").fetchall())
    assert counted.get("pricing.table_not_loaded") == 1, counted
