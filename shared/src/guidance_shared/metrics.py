"""Prometheus metrics of the kernel, one set per registry so many apps can share a process."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


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
