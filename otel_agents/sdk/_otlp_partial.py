"""What an OTLP receiver refused in a partial success (an answer of success), counted as drops per signal."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any, Final

from otel_agents.api import _counters as stats

_log = logging.getLogger("otel_agents")

# signal -> (response message module, its name, the field counting what was refused, drop reason, noun)
_ANSWERS: Final = {
    "traces": (
        "opentelemetry.proto.collector.trace.v1.trace_service_pb2",
        "ExportTraceServiceResponse",
        "rejected_spans",
        "spans.otlp.rejected",
        "span",
    ),
    "logs": (
        "opentelemetry.proto.collector.logs.v1.logs_service_pb2",
        "ExportLogsServiceResponse",
        "rejected_log_records",
        "logs.otlp.rejected",
        "log record",
    ),
    "metrics": (
        "opentelemetry.proto.collector.metrics.v1.metrics_service_pb2",
        "ExportMetricsServiceResponse",
        "rejected_data_points",
        "metrics.otlp.rejected",
        "metric data point",
    ),
}
_WATCHING: Final = "_otel_agents_reads_refusals"
DROP_REASONS: Final = {signal: answer[3] for signal, answer in _ANSWERS.items()}


def watch(exporter: Any, signal: str) -> None:
    """Read every 2xx answer ``exporter``'s stock HTTP client gets for refused items: the client
    takes such an answer as a plain success and keeps nothing of it. No such client (another
    version of the exporter): nothing changes."""
    client = getattr(exporter, "_client", None)
    submit = getattr(client, "_submit", None)
    if not callable(submit) or getattr(submit, _WATCHING, False):
        return
    reader = _Refusals(signal)

    def submit_and_read(data: bytes, timeout: float) -> Any:
        answer = submit(data, timeout)
        reader.read(answer)
        return answer

    setattr(submit_and_read, _WATCHING, True)  # a second watch() would count every refusal twice
    client._submit = submit_and_read  # type: ignore[union-attr]


def answer_reader(signal: str) -> Callable[[Any], None]:
    """What reads a stock OTLP/gRPC exporter's ``Export`` answers for ``signal`` (hand it to
    ``_grpc_export.watch_export``); it never raises."""
    return _Refusals(signal).read_message


class _Refusals:
    """Counts the items one exporter's answers refuse, and names the first refusal in a warning."""

    def __init__(self, signal: str) -> None:
        self._module, self._message, self._field, self._reason, self._noun = _ANSWERS[signal]
        self._warned = False

    def read(self, answer: Any) -> None:
        """An HTTP answer: its body, when it is a 2xx one, parsed as the signal's response."""
        try:
            status = getattr(answer, "status_code", None)
            if status is None or not 200 <= status < 300:
                return
            body = answer.content()
            if not body:
                return
            message = getattr(importlib.import_module(self._module), self._message).FromString(body)
        except Exception:  # noqa: BLE001 - an answer we cannot read refused nothing we can count
            return
        self.read_message(message)

    def read_message(self, message: Any) -> None:
        """A response message: count what its partial success refused."""
        try:
            partial = message.partial_success
            refused = int(getattr(partial, self._field))
            why = str(partial.error_message)[:200]
        except Exception:  # noqa: BLE001 - as above
            return
        if refused <= 0:
            return
        stats.count_drop(self._reason, refused)
        if not self._warned:
            self._warned = True
            _log.warning(
                "otel_agents: the OTLP receiver refused %d %s(s) of a batch it took: %s",
                refused,
                self._noun,
                why or "no reason given",
            )
