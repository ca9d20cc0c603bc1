"""The logging bridge: app logging keeps working as before, and a hostile record never raises."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from typing import Any

import otel_agents as oa


class Unprintable:
    """``str()`` raises."""

    def __str__(self) -> str:
        raise ValueError("no")

    __repr__ = __str__


def test_hostile_extra_and_args_never_raise_into_the_caller(pipeline: Any) -> None:
    """A log call with an extra or an argument whose __str__ raises returns normally and is still exported."""
    log = logging.getLogger("app.hostile")
    log.warning("value %s", Unprintable())
    log.warning("with extra", extra={"thing": Unprintable(), "ok": 1})
    bodies = [str(r.log_record.body) for r in pipeline.logs()]
    assert "with extra" in bodies
    assert any("value" in b for b in bodies)


def _run(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True, timeout=60
    )


def test_warnings_still_reach_stderr_when_the_app_configured_no_logging() -> None:
    """With no logging setup of the app's own, warnings print to stderr as they did before configure()."""
    result = _run(
        """
        import logging, otel_agents as oa
        oa.configure(exporter="none")
        logging.getLogger("app").warning("visible warning")
        logging.getLogger("app").info("invisible info")
        """
    )
    assert result.returncode == 0, result.stderr
    assert "visible warning" in result.stderr
    assert "invisible info" not in result.stderr


def test_basic_config_after_configure_still_takes_effect() -> None:
    """logging.basicConfig() called after configure() still sets the app's format and level."""
    result = _run(
        """
        import logging, otel_agents as oa
        oa.configure(exporter="none")
        logging.basicConfig(level=logging.INFO, format="APP %(levelname)s %(message)s")
        logging.getLogger("app").info("hello")
        root = logging.getLogger()
        print(sorted(type(h).__name__ for h in root.handlers))
        """
    )
    assert result.returncode == 0, result.stderr
    assert "APP INFO hello" in result.stderr
    assert result.stdout.strip() == "['GuardedLoggingHandler', 'StreamHandler']"


def test_shutdown_restores_logging(pipeline: Any) -> None:
    """After shutdown, the root logger and logging's config functions are as they were."""
    root = logging.getLogger()
    before = list(root.handlers)
    pipeline.telemetry.shutdown(2)
    assert not any(type(h).__name__ == "GuardedLoggingHandler" for h in root.handlers)
    assert logging.basicConfig.__module__ == "logging"
    del before
    oa.workflow("after-shutdown")  # the API keeps working as a no-op
