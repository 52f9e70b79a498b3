"""Prometheus metrics of the kernel, one set per registry so many apps can share a process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import GaugeMetricFamily, Metric


class KernelMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.relay_published = Counter(
            "guidance_relay_published_total", "Outbox rows published and acknowledged", registry=registry
        )
        self.outbox_pending = Gauge("guidance_outbox_pending", "Outbox rows waiting for the log", registry=registry)
        self.consumer_applied = Counter(
            "guidance_consumer_applied_total", "Events applied to a projection", ["group"], registry=registry
        )
        self.consumer_skipped = Counter(
            "guidance_consumer_skipped_total",
            "Events skipped (duplicate, unknown type, parked)",
            ["group", "reason"],
            registry=registry,
        )
        self.consumer_dead_lettered = Counter(
            "guidance_consumer_dead_lettered_total",
            "Events sent to the dead-letter topic",
            ["group"],
            registry=registry,
        )
        self.consumer_lag = Gauge(
            "guidance_consumer_lag",
            "Records not yet applied, per partition",
            ["group", "topic", "partition"],
            registry=registry,
        )
        self.parked_aggregates = Gauge(
            "guidance_parked_aggregates", "Aggregates parked behind a poison event", ["group"], registry=registry
        )


class StoredStateCollector:
    """Metrics read from the service's database at scrape time, so the web process can report on
    the worker: outbox rows not yet acknowledged by the log, and consumer lag per partition computed
    from the offsets the projection stored (the authority) against the log's end offsets."""

    def __init__(
        self, service: str, *, pending: Callable[[], int] | None, lag: Callable[[], dict[tuple[str, int], int]] | None
    ) -> None:
        self.service = service
        self.pending = pending
        self.lag = lag

    def collect(self) -> Iterator[Metric]:
        if self.pending is not None:
            family = GaugeMetricFamily("guidance_outbox_unpublished", "Outbox rows the log has not acknowledged yet")
            family.add_metric([], self._safe(self.pending, -1))
            yield family
        if self.lag is not None:
            lag = GaugeMetricFamily(
                "guidance_projection_lag",
                "Records not yet applied to the projection",
                labels=["group", "topic", "partition"],
            )
            for (topic, partition), value in sorted(self._safe(self.lag, {}).items()):
                lag.add_metric([self.service, topic, str(partition)], value)
            yield lag

    @staticmethod
    def _safe(read: Callable[[], Any], fallback: Any) -> Any:
        try:
            return read()
        except Exception:  # a scrape must not fail because the broker is away; /readyz reports that
            return fallback
