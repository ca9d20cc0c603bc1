"""``configure()``: one call builds the SDK pipeline (providers, processors, exporters) exactly once."""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass, field, fields
from functools import partial
from typing import Any, Final

from opentelemetry import metrics, trace
from opentelemetry._logs import get_logger_provider, set_logger_provider
from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor
from opentelemetry.sdk._logs.export import LogRecordExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    MetricExporter,
    MetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import OTELResourceDetector, Resource
from opentelemetry.sdk.trace import SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter

from otel_agents.api import _pricing as pricing
from otel_agents.api import _semconv as semconv
from otel_agents.api._switches import capture_in_events, switches
from otel_agents.api._threads import signals_blocked
from otel_agents.api._values import set_span_value_cap
from otel_agents.api._version import __version__
from otel_agents.sdk import _content_switches, _prometheus_reader, _propagation
from otel_agents.sdk import _fork as fork
from otel_agents.sdk import _sampling as sampling
from otel_agents.sdk._batching import LogExportQueue, SpanExportQueue, run_bounded
from otel_agents.sdk._http_views import http_server_views
from otel_agents.sdk._log_bridge import Bridge
from otel_agents.sdk._options import SIGNALS, SPEC, Options, from_argument, resolve
from otel_agents.sdk._sigterm import flush_on_sigterm
from otel_agents.sdk._span_histograms import (
    SpanHistograms,
    WithSpanHistograms,
    can_take,
    temporality_of,
    with_histograms,
)
from otel_agents.sdk.processors._chain import SpanChain
from otel_agents.sdk.processors._fanout import FanOutLogProcessor
from otel_agents.sdk.processors._log_content import ContentLogProcessor
from otel_agents.sdk.processors._metric_rewrite import MetricRewriter, RewritingMetricExporter, then
from otel_agents.sdk.processors._normalise import Normaliser
from otel_agents.sdk.processors._preview import PreviewCutter
from otel_agents.sdk.processors._redaction import Redactor
from otel_agents.sdk.processors._rewrite import RewriteLogProcessor, Rewriter, rewrite_resource
from otel_agents.sdk.processors._span_metrics import SpanMetricsProcessor
from otel_agents.sdk.processors._stamping import RunContextLogProcessor
from otel_agents.sdk.processors._truncation import Truncator

_log = logging.getLogger("otel_agents")
# How long a metric collection (a scrape, a push) waits for the chain to work through the spans it
# still holds, so that it counts every span that ended before it.
COLLECT_WAIT_S: Final = 0.2
_lock = threading.Lock()
_current: Telemetry | None = None
# The tracer provider the API holds (it takes one per process) and its chain: a reconfigure
# forwards what that provider still receives to the new chain.
_installed: tuple[TracerProvider, SpanChain] | None = None
# No attribute value is kept longer than this (or 4x max_attribute_length) from the moment it is set.
HARD_VALUE_CAP = 16 * 1024


@dataclass
class Telemetry:
    """What ``configure()`` built; ``shutdown()`` and ``force_flush()`` are bounded in time."""

    options: Options
    resource: Resource
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    logger_provider: LoggerProvider
    store: Any = None
    span_metrics: SpanMetricsProcessor | None = None
    _log_bridge: Bridge | None = field(default=None, repr=False)
    _system_metrics: Any = field(default=None, repr=False)
    _chain: SpanChain | None = field(default=None, repr=False)
    _push_readers: tuple[MetricReader, ...] = field(default=(), repr=False)
    _shut: bool = field(default=False, repr=False)

    @property
    def is_shutdown(self) -> bool:
        """True once ``shutdown()`` ran."""
        return self._shut

    def force_flush(self, timeout: float | None = None) -> bool:
        """Export everything recorded so far; returns False if that took longer than ``timeout``."""
        budget = self.options.shutdown_timeout if timeout is None else timeout
        deadline = time.monotonic() + budget

        def remaining_ms() -> int:
            return int(max(deadline - time.monotonic(), 0) * 1000)

        def flush() -> bool:
            # Metrics last: spans ending now still feed the span-derived metrics.
            spans = self.tracer_provider.force_flush(remaining_ms())
            logs = self.logger_provider.force_flush(remaining_ms())
            # Push readers only: a collect() on a pull reader (Prometheus) outside a scrape queues
            # a second copy of every metric, and the next /metrics page repeats each family.
            pushed = all(
                r.force_flush(remaining_ms())
                for r in self.options.metric_readers + self._push_readers
                if isinstance(r, PeriodicExportingMetricReader)
            )
            return bool(pushed and spans and logs)

        return run_bounded(flush, budget, "force_flush")

    def shutdown(self, timeout: float | None = None) -> bool:
        """Flush and stop every provider within ``timeout`` seconds, even with no collector.

        The exporters stop a fifth of the budget (at most 1 s) early: what they could not send is
        counted before this returns, and the store persists those counts in the time left, so
        ``doctor`` shows them.
        """
        global _current  # noqa: PLW0603 - the one process-wide pipeline
        with _lock:
            if self._shut:
                return True
            self._shut = True
            if _current is self:
                _current = None
        budget = self.options.shutdown_timeout if timeout is None else timeout
        deadline = time.monotonic() + budget
        reserve = min(budget / 5, 1.0)
        if self._log_bridge is not None:
            self._log_bridge.uninstall()
        if self._system_metrics is not None:
            from otel_agents.sdk import _system_metrics as system

            system.stop(self._system_metrics)

        def remaining(keep: float = 0.0) -> float:
            return max(deadline - time.monotonic() - keep, 0.0)

        # A cost deferred while the price table loads may wait for it only half of the spans' time.
        pricing.stop_waiting(time.monotonic() + remaining(reserve) / 2)

        def stop() -> None:
            # Spans first: their end feeds the span-derived metrics collected last.
            if self._chain is not None:
                self._chain.shutdown_within(remaining(reserve))
            self.tracer_provider.shutdown()
            self.logger_provider.shutdown()
            self.meter_provider.shutdown(int(max(remaining(reserve), 0.1) * 1000))

        # The providers' own deadlines fall at ``reserve``; waiting for them until half of it leaves
        # time for the counts they make at that deadline, before the store persists them.
        ok = run_bounded(stop, remaining(reserve / 2), "shutdown")
        if self.store is not None:
            ok = run_bounded(self.store.close, remaining(), "store.close") and ok
        return ok


def configure(**options: Any) -> Telemetry:
    """Set up traces, metrics and logs for this process; later calls return the same handle."""
    global _current  # noqa: PLW0603 - the one process-wide pipeline
    resolved = resolve(**options)
    with _lock:
        if _current is not None:
            _warn_if_different(_current.options, resolved, options)
            return _current
        # The SDK's metric reader starts its thread here too: it must not take SIGTERM either.
        with signals_blocked():
            telemetry = (
                _disabled(resolved)
                if resolved.sdk_disabled
                else _build(resolved, events_content=_events_content(options))
            )
        _current = telemetry
    atexit.register(telemetry.shutdown)
    if not resolved.sdk_disabled:
        fork.install(telemetry)
        # A plain script killed by SIGTERM skips atexit: flush then too (only where nobody else
        # handles SIGTERM; servers that take it over restore this handler before they re-raise it).
        flush_on_sigterm(telemetry)
    return telemetry


def current() -> Telemetry | None:
    """The pipeline ``configure()`` built in this process, if any."""
    return _current


def _warn_if_different(active: Options, wanted: Options, given: dict[str, Any]) -> None:
    differing = [
        f.name
        for f in fields(Options)
        if f.name in given and f.compare and getattr(active, f.name) != getattr(wanted, f.name)
    ]
    if differing:
        _log.warning(
            "otel_agents: configure() was already called; ignoring new values for %s "
            "(call shutdown() on the handle first to reconfigure)",
            ", ".join(differing),
        )


def _resource(options: Options) -> Resource:
    attrs: dict[str, str] = {
        semconv.TELEMETRY_DISTRO_NAME: "otel-agents",
        semconv.TELEMETRY_DISTRO_VERSION: __version__,
    }
    # argument > OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES > OTEL_AGENTS_* > default: Resource.create
    # puts what it is given over the standard variables, so only arguments go in unconditionally.
    from_variables = OTELResourceDetector().detect().attributes
    ours = (
        (semconv.SERVICE_NAME, "service_name", options.service_name),
        (semconv.SERVICE_VERSION, "service_version", options.service_version),
        (semconv.DEPLOYMENT_ENVIRONMENT_NAME, "environment", options.environment),
        (semconv.SERVICE_INSTANCE_ID, "instance_id", options.instance_id or str(uuid.uuid4())),
    )
    for key, name, value in ours:
        if value and (key not in from_variables or from_argument(options, name)):
            attrs[key] = value
    return Resource.create(attrs)


def _exporters(
    options: Options,
) -> tuple[list[SpanExporter], list[MetricExporter | MetricReader], list[LogRecordExporter], Any]:
    """Each signal's exporters, in the order named; the store is opened once if any signal uses it."""
    from otel_agents.sdk import _exporter_setup as setup

    wanted = {signal: options.exporters_for(signal) for signal in SIGNALS}
    store = None
    if any("store" in names for names in wanted.values()):
        store = setup.open_local_store(options)
    built: dict[str, list[Any]] = {signal: [] for signal in SIGNALS}
    for signal, names in wanted.items():
        for name in names:
            if name == "store":
                if store is False:  # a bad home: nothing stored, as the warning said
                    continue
                built[signal].append(
                    setup.store_exporter(store, signal)
                    if store is not None
                    else setup.console_exporter(signal)
                )
            elif name == "console":
                built[signal].append(setup.console_exporter(signal))
            elif name == "prometheus":
                prometheus = setup.prometheus_reader()
                if prometheus is not None:
                    built[signal].append(prometheus)
            else:
                built[signal].append(setup.otlp_exporter(options, signal, name))
    return built["traces"], built["metrics"], built["logs"], (store or None)


def _rewriters(options: Options) -> list[Rewriter]:
    # Truncation first: redaction then reads at most max_attribute_length characters of any value.
    rewriters: list[Rewriter] = [Truncator(options.max_attribute_length)]
    if options.redact:
        rewriters.append(
            Redactor(
                extra_patterns=options.redact_patterns,
                extra_keys=options.redact_keys,
                allow=options.redact_allow,
            )
        )
    # After the redactor: it has seen a secret crossing the cut whole.
    rewriters.append(PreviewCutter())
    return rewriters


def _disabled(options: Options) -> Telemetry:
    """``OTEL_SDK_DISABLED``: inert providers, never installed; no store, no thread, no file."""
    resource = Resource.get_empty()
    return Telemetry(
        options=options,
        resource=resource,
        tracer_provider=TracerProvider(resource=resource, shutdown_on_exit=False),
        meter_provider=MeterProvider(resource=resource, shutdown_on_exit=False),
        logger_provider=LoggerProvider(resource=resource, shutdown_on_exit=False),
    )


def _note_semconv_opt_in() -> None:
    """Our spans follow the latest GenAI conventions whatever the opt-in says: say so once if it differs."""
    value = os.environ.get(semconv.ENV_SEMCONV_OPT_IN)
    if value is None:
        return
    chosen = {part.strip() for part in value.split(",")}
    if semconv.OPT_IN_GEN_AI_LATEST not in chosen:
        _log.info(
            "otel_agents: %s=%r does not include %s; otel-agents' own spans follow the latest GenAI "
            "conventions regardless (there is no older mode), other instrumentations follow the variable",
            semconv.ENV_SEMCONV_OPT_IN,
            value,
            semconv.OPT_IN_GEN_AI_LATEST,
        )


def _span_limits(options: Options) -> SpanLimits:
    """The SDK's limits, with a hard cap on value length: a 1 MB attribute is cut (a C-level slice)
    when it is set, so queues never hold it; our truncation then cuts precisely, with its marker."""
    cap = max(4 * options.max_attribute_length, HARD_VALUE_CAP)
    # A shorter limit the user set in the standard variables is the SDK's to apply, exactly.
    # (The general one below 16 was refused with a warning by the options, as for max_attribute_length.)
    general = min(cap, _length_variable("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", minimum=16) or cap)
    span_cap = min(cap, _length_variable("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT") or general)
    try:
        return SpanLimits(max_attribute_length=general, max_span_attribute_length=span_cap)
    except ValueError as exc:  # a bad OTEL_SPAN_*_LIMIT / OTEL_ATTRIBUTE_COUNT_LIMIT variable
        _log.warning("otel_agents: ignoring the OTEL_*_LIMIT variables: %s", exc)
        return SpanLimits(
            max_attributes=128,
            max_events=128,
            max_links=128,
            max_span_attributes=128,
            max_event_attributes=128,
            max_link_attributes=128,
            max_attribute_length=cap,
            max_span_attribute_length=cap,
        )


def _length_variable(name: str, minimum: int = 1) -> int | None:
    """A value length limit from the environment, else None (bad values were warned about)."""
    try:
        value = int(os.environ.get(name, "").strip())
    except ValueError:
        return None
    return value if value >= minimum else None


class _OncePerMessage(logging.Filter):
    """Lets each distinct SDK warning through once: the hard cap cuts values on every span, and
    a warning per span would flood the application's logs."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[object] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        key = record.msg
        if key in self._seen:
            return False
        if len(self._seen) < 256:
            self._seen.add(key)
        return True


_sdk_attribute_warnings = _OncePerMessage()


def _metric_readers(
    options: Options,
    metric_exporters: list[MetricExporter | MetricReader],
    resource: Resource,
    rewrite: MetricRewriter,
) -> tuple[list[MetricReader], SpanHistograms | None]:
    """The meter provider's readers, and where the span histograms go when not to SDK instruments;
    ``rewrite`` redacts every point's attributes before an exporter or a scrape reads them."""
    # Our Prometheus reader, shut down with an earlier pipeline, is replaced by a new one.
    readers: list[MetricReader] = [_prometheus_reader.current(r) for r in options.metric_readers]
    # A pull reader named by OTEL_METRICS_EXPORTER=prometheus; once, if it was also passed.
    for pull in [e for e in metric_exporters if isinstance(e, MetricReader)]:
        if not any(r is pull for r in readers):
            readers.append(pull)
    push: list[MetricExporter] = [e for e in metric_exporters if not isinstance(e, MetricReader)]
    # The span histograms skip the SDK's Histogram.record when every reader is one of ours, a push
    # reader whose exporter takes explicit bucket points or our Prometheus reader: each export or
    # scrape then carries them (see _span_histograms). Any other reader the app passed, or an
    # exponential-histogram exporter, keeps the SDK's instruments.
    histograms: SpanHistograms | None = None
    scraped = [r for r in readers if _prometheus_reader.is_ours(r)]
    if len(scraped) == len(readers) and (push or scraped) and all(can_take(e) for e in push):
        histograms = SpanHistograms()
        push = [WithSpanHistograms(e, histograms.sink(temporality_of(e)), resource) for e in push]
    if scraped:
        # Prometheus reads cumulative points: each scrape adds this pipeline's, or nothing.
        sink = histograms.sink(AggregationTemporality.CUMULATIVE) if histograms is not None else None
        merge = partial(with_histograms, sink=sink, resource=resource) if sink else None
        _prometheus_reader.feed(then(merge, rewrite))
    # Outermost: an instrument's labels (the app's own, a library's) are text like any attribute.
    push = [RewritingMetricExporter(e, rewrite) for e in push]
    reader_reads_timeout = os.environ.get("OTEL_METRIC_EXPORT_TIMEOUT") and not from_argument(
        options, "export_timeout"
    )
    readers += [
        PeriodicExportingMetricReader(
            exporter,
            export_interval_millis=options.metric_export_interval * 1000,
            # None: the reader reads OTEL_METRIC_EXPORT_TIMEOUT itself (an argument still wins).
            export_timeout_millis=None if reader_reads_timeout else options.export_timeout * 1000,
        )
        for exporter in push
    ]
    return readers, histograms


def _events_content(arguments: dict[str, Any]) -> bool:
    """Whether GenAI libraries' events (log records) may keep content: the argument decides, else
    the variables as util-genai reads them (``event_only`` allows it there, ``span_only`` not)."""
    return capture_in_events(arguments.get("capture_content"), SPEC["capture_content"].env)


def _build(options: Options, *, events_content: bool = False) -> Telemetry:
    _note_semconv_opt_in()
    # Read by the contrib instrumentations when they first instrument, which is after this call
    # under the launcher, setup_monitoring() and the documented manual order; the user's value wins.
    os.environ.setdefault(semconv.ENV_SEMCONV_OPT_IN, semconv.DEFAULT_OPT_IN)
    switches.capture_content = options.capture_content
    switches.log_events = options.log_events
    _content_switches.align(options.capture_content)
    _propagation.install(options.baggage_hosts)
    switches.legacy_route_keys = options.legacy_route_keys
    switches.preview_content = options.preview_content
    sdk_attributes_log = logging.getLogger("opentelemetry.attributes")
    if _sdk_attribute_warnings not in sdk_attributes_log.filters:
        sdk_attributes_log.addFilter(_sdk_attribute_warnings)
    pricing.start_warm_up(freeze_gc=options.freeze_gc)
    rewriters = _rewriters(options)
    resource = rewrite_resource(_resource(options), rewriters)
    span_exporters, metric_exporters, log_exporters, store = _exporters(options)
    if store is not None:
        store.span_exporter.unsampled_counts_only = options.record_unsampled
    span_exporters += list(options.span_exporters)
    metric_exporters += list(options.metric_exporters)
    log_exporters += list(options.log_exporters)
    batch = {
        "max_queue_size": options.max_queue_size,
        "max_queue_bytes": options.max_queue_bytes,
        "max_batch_size": options.max_export_batch_size,
        "schedule_delay": options.schedule_delay,
    }
    readers, histograms = _metric_readers(options, metric_exporters, resource, MetricRewriter(rewriters))
    meter_provider = MeterProvider(
        resource=resource, metric_readers=readers, shutdown_on_exit=False, views=http_server_views()
    )
    span_metrics = SpanMetricsProcessor(
        meter_provider.get_meter(semconv.SCOPE_NAME, __version__, schema_url=semconv.SCHEMA_URL),
        histograms=histograms,
    )

    # Redaction and truncation run before the span metrics, every exporter and every user processor
    # (those added later through the provider too): metric labels never carry a secret.
    chain = SpanChain(
        rewriters,
        metrics=span_metrics,
        exporters=[
            SpanExportQueue(
                e,
                name=f"spans.{type(e).__name__}",
                unsampled=options.record_unsampled and store is not None and e is store.span_exporter,
                **batch,
            )
            for e in span_exporters
        ],
        processors=options.span_processors,
        max_queue_size=options.max_queue_size,
        max_queue_bytes=options.max_queue_bytes,
        max_batch_size=options.max_export_batch_size,
        schedule_delay=options.schedule_delay,
        shutdown_timeout=options.shutdown_timeout,
        normaliser=Normaliser(capture_content=options.capture_content),
    )
    span_metrics.before_collect = partial(chain.work_through_queue, COLLECT_WAIT_S)
    sampler = sampling.from_environment()
    limits = _span_limits(options)
    set_span_value_cap(limits.max_span_attribute_length)
    tracer_provider = TracerProvider(
        resource=resource,
        sampler=sampling.RecordUnsampled(sampler) if options.record_unsampled else sampler,
        shutdown_on_exit=False,
        span_limits=limits,
        # Typed as the SDK's multi-processors, but the provider and its spans only call the
        # SpanProcessor hooks and add_span_processor, which SpanChain implements.
        active_span_processor=chain,
    )

    logger_provider = LoggerProvider(resource=resource, shutdown_on_exit=False)
    logger_provider.add_log_record_processor(RunContextLogProcessor())
    log_batch = {
        "max_queue_size": options.log_max_queue_size or options.max_queue_size,
        "max_batch_size": options.log_max_export_batch_size or options.max_export_batch_size,
        "schedule_delay": options.log_schedule_delay or options.schedule_delay,
    }
    log_batch["max_batch_size"] = min(log_batch["max_batch_size"], log_batch["max_queue_size"])
    log_processors = [LogExportQueue(e, name=f"logs.{type(e).__name__}", **log_batch) for e in log_exporters]
    log_chain: LogRecordProcessor = RewriteLogProcessor(FanOutLogProcessor(log_processors), rewriters)
    if not events_content:
        log_chain = ContentLogProcessor(log_chain)
    logger_provider.add_log_record_processor(log_chain)

    _install_globals(tracer_provider, meter_provider, logger_provider, chain)
    bridge = None
    if options.logs:
        bridge = Bridge(logger_provider)
        bridge.install()
    if options.log_events:
        logging.getLogger(semconv.EVENT_LOGGER).setLevel(logging.INFO)
    system_metrics = None
    if options.system_metrics:
        from otel_agents.sdk import _system_metrics as system

        system_metrics = system.start(meter_provider)
    return Telemetry(
        options=options,
        resource=resource,
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        logger_provider=logger_provider,
        store=store,
        span_metrics=span_metrics,
        _log_bridge=bridge,
        _system_metrics=system_metrics,
        _chain=chain,
        _push_readers=tuple(r for r in readers if r not in options.metric_readers),
    )


def _install_globals(
    tracer_provider: TracerProvider,
    meter_provider: MeterProvider,
    logger_provider: LoggerProvider,
    chain: SpanChain,
) -> None:
    global _installed  # noqa: PLW0603 - the API's providers are set once per process
    installed = _installed
    if installed is not None and trace.get_tracer_provider() is installed[0]:
        # shutdown() then configure(): the API keeps the first providers for good (and warns at a
        # second set_*). The first provider's tracers, ours and every library's, feed the new
        # chain, however many pipelines came between; logs reach the new provider through the new
        # bridge; span metrics use the new meters.
        installed[1].forward_to(chain)
        return
    # The API ignores a second set_*_provider with only a log line; say loudly what that means.
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)
    set_logger_provider(logger_provider)
    if trace.get_tracer_provider() is tracer_provider:
        _installed = (tracer_provider, chain)
    else:
        _log.warning(
            "otel_agents: another tracer provider was installed before configure(); spans made "
            "through it bypass otel-agents processors (redaction included). Call configure() "
            "first, or run under opentelemetry-instrument with the otel-agents distro."
        )
    if get_logger_provider() is not logger_provider:
        _log.warning("otel_agents: another logger provider was installed before configure()")
