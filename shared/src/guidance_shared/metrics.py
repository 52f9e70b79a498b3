"""Prometheus metrics of the kernel, one set per registry so many apps can share a process."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
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


class OverdueCollector:
    """What ran past its legal deadline, read from the read models at scrape time (web and worker alike).

    ``read`` gives, per kind (``disclosure_item``, ``disclosure_request``, ``revisit``), how many are past
    due and still open, and how many of those the worker's overdue check has not flagged yet (a count
    that stays above zero means that check is not running)."""

    def __init__(self, read: Callable[[], Mapping[str, tuple[int, int]]]) -> None:
        self.read = read

    def collect(self) -> Iterator[Metric]:
        counts = StoredStateCollector._safe(self.read, {})
        overdue = GaugeMetricFamily("guidance_overdue", "Items past their deadline and still open", labels=["kind"])
        unflagged = GaugeMetricFamily(
            "guidance_overdue_unflagged", "Items past their deadline the overdue check has not flagged", labels=["kind"]
        )
        for kind, (past_due, not_flagged) in sorted(counts.items()):
            overdue.add_metric([kind], past_due)
            unflagged.add_metric([kind], not_flagged)
        yield overdue
        yield unflagged


class ReadinessCollector:
    """The worker's readiness checks, run at scrape time: ``guidance_worker_ready{service, check}`` is 1 or 0.
    Its absence means the worker is not scraped at all (down); alerts use both (deploy/prometheus/alerts.yaml)."""

    def __init__(self, service: str, checks: Mapping[str, Callable[[], None]]) -> None:
        self.service = service
        self.checks = checks

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "guidance_worker_ready", "1 when the worker's readiness check passes", labels=["service", "check"]
        )
        for name, check in sorted(self.checks.items()):
            family.add_metric([self.service, name], self._passes(check))
        yield family

    @staticmethod
    def _passes(check: Callable[[], None]) -> int:
        try:
            check()
        except Exception:  # the reason is on /readyz and in the log
            return 0
        return 1
