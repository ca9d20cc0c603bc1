"""Our own and the OTel SDK's diagnostic log messages redacted before any handler sees them."""

from __future__ import annotations

import logging
import threading
import traceback
from typing import Any, Final

from otel_agents.sdk.processors._redaction import Redactor

# Their warnings quote what they could not use, environment values included: a malformed
# OTEL_EXPORTER_OTLP_HEADERS is quoted whole, API key and all.
PREFIXES: Final = ("otel_agents", "opentelemetry")
_MESSAGE_KEY: Final = "log.message"
_lock = threading.Lock()
_installed = False
_redactor = Redactor()


def install() -> None:
    """Scrub every record those loggers make from now on (once per process; chained to the
    record factory in force, so another library's factory still runs)."""
    global _installed  # noqa: PLW0603 - one record factory per process
    with _lock:
        if _installed:
            return
        _installed = True
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            name = getattr(record, "name", None)  # another factory may make records of its own kind
            if isinstance(name, str) and name.startswith(PREFIXES):
                scrub(record)
            return record

        logging.setLogRecordFactory(factory)


def scrub(record: logging.LogRecord) -> None:
    """Redact ``record``'s message and traceback in place; a record that cannot be read is left
    for the logging module to report, as it would be without us."""
    try:
        message = record.getMessage()
        clean = _redactor(_MESSAGE_KEY, message)
        if clean is not message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            # A handler's formatter uses exc_text when it is set: the traceback goes redacted.
            record.exc_text = _redactor(_MESSAGE_KEY, text)
    except Exception:  # noqa: BLE001, S110 - a record we cannot read is logging's to report
        pass
