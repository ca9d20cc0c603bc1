"""Metric views that keep HTTP server metrics to labels the server chooses, exemplars included."""

from __future__ import annotations

from typing import Any, cast

from opentelemetry.context import Context
from opentelemetry.sdk.metrics import (
    AlignedHistogramBucketExemplarReservoir,
    Exemplar,
    ExemplarReservoir,
    SimpleFixedSizeExemplarReservoir,
)
from opentelemetry.sdk.metrics.view import View
from opentelemetry.util.types import Attributes

from otel_agents.api import _semconv as semconv


class _NoFilteredAttributes(ExemplarReservoir):
    """The SDK's default reservoir, minus the attributes a view filtered out.

    Exemplars carry every attribute the view dropped (``http.server_name`` holds the client's Host
    header): they keep their trace link here, never those values.
    """

    def __init__(self, **kwargs: Any) -> None:
        # Explicit-bucket histograms pass their boundaries; every other aggregation does not.
        self._inner: ExemplarReservoir = (
            AlignedHistogramBucketExemplarReservoir(**kwargs)
            if "boundaries" in kwargs
            else SimpleFixedSizeExemplarReservoir(**kwargs)
        )

    def offer(self, value: float, time_unix_nano: int, attributes: Attributes, context: Context) -> None:
        self._inner.offer(value, time_unix_nano, None, context)

    def collect(self, point_attributes: Attributes) -> list[Exemplar]:
        return self._inner.collect(point_attributes)


def http_server_views() -> list[View]:
    """A client's Host header (or any value it sends) must not mint a label set, on /metrics, in the
    store or over OTLP: the HTTP server instruments keep an allow-list of server-chosen labels."""
    return [
        View(
            instrument_name=semconv.HTTP_SERVER_INSTRUMENTS,
            attribute_keys=set(semconv.HTTP_SERVER_METRIC_KEYS),
            # The SDK types the builder as taking one dict; it calls it with keyword arguments.
            exemplar_reservoir_factory=lambda _aggregation: cast(Any, _NoFilteredAttributes),
        )
    ]
