"""Our own and the OTel SDK's diagnostics never quote a secret, whatever environment value they complain about."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import textwrap

from otel_agents.sdk import _log_scrub
from otel_agents.sdk.processors._redaction import marker

KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123"

_APP = textwrap.dedent(
    """
    import logging
    made = []
    previous = logging.getLogRecordFactory()

    def app_factory(*args, **kwargs):
        made.append(args[0])
        return previous(*args, **kwargs)

    # The app's own record factory, set before otel_agents loads: it must keep running.
    logging.setLogRecordFactory(app_factory)
    import otel_agents as oa

    telemetry = oa.configure(exporter="otlp", logs=False, export_timeout=1)
    with oa.tool("t"):
        pass
    telemetry.shutdown(2)
    logging.getLogger("app").warning("the app's own %s", "message")
    print("factory ran for", sorted(set(made)))
    """
)


def test_bad_environment_values_are_quoted_redacted_on_stderr() -> None:
    """A malformed OTLP header, resource attribute, endpoint or option holding a key is reported
    without it, by otel-agents and by the SDK alike; the app's own record factory still runs."""
    env = {
        **os.environ,
        "OTEL_EXPORTER_OTLP_HEADERS": KEY,
        "OTEL_RESOURCE_ATTRIBUTES": KEY,
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://bob:{KEY}@bad host",
        "OTEL_AGENTS_MAX_QUEUE_SIZE": KEY,
    }
    env.pop("OTEL_AGENTS_RAISE_INTERNAL_ERRORS", None)
    done = subprocess.run([sys.executable, "-c", _APP], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert KEY not in done.stderr and "abcdefghijklmnopqrstuvwxyz" not in done.stderr
    for complaint in (
        "Header format invalid",
        "Invalid key value resource attribute",
        "OTEL_AGENTS_MAX_QUEUE_SIZE",
    ):
        assert complaint in done.stderr
    assert marker("api_key") in done.stderr and marker("url_credentials") in done.stderr
    assert "app" in done.stdout and "the app's own message" in done.stderr


def test_a_diagnostic_traceback_is_redacted_and_the_apps_records_are_left_alone() -> None:
    """An SDK record with an exception quoting a key goes to handlers redacted; the app's records as logged."""
    _log_scrub.install()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    sdk_logger, app_logger = (
        logging.getLogger("opentelemetry.test_scrub"),
        logging.getLogger("app.test_scrub"),
    )
    for logger in (sdk_logger, app_logger):
        logger.addHandler(handler)
        logger.propagate = False
    try:
        try:
            raise ValueError(f"rejected {KEY}")
        except ValueError:
            sdk_logger.exception("export failed for %s", KEY)
        app_logger.warning("app %s", "kept as is")
    finally:
        for logger in (sdk_logger, app_logger):
            logger.removeHandler(handler)
            logger.propagate = True
    out = stream.getvalue()
    assert KEY not in out
    assert f"export failed for {marker('api_key')}" in out and f"rejected {marker('api_key')}" in out
    assert "app.test_scrub app kept as is" in out
