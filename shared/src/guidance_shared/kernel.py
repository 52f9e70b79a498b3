"""Wiring of the kernel's adapters from settings: the one place that chooses them."""

from __future__ import annotations

from guidance_shared.settings import Settings
from guidance_shared.topics import project_topics
from guidance_shared.transport.base import Transport
from guidance_shared.transport.embedded import EmbeddedTransport
from guidance_shared.transport.kafka_transport import KafkaTransport


def make_transport(settings: Settings) -> Transport:
    if settings.transport == "kafka":
        return KafkaTransport(
            settings.kafka_bootstrap_servers,
            prefix=settings.topic_prefix,
            replication_factor=settings.topic_replication_factor,
            client_options=settings.kafka_security.client_options(),
        )
    return EmbeddedTransport(settings.embedded_log, default_partitions=settings.topic_partitions)


def provision(transport: Transport, settings: Settings) -> None:
    """The four event topics and every service group's dead-letter topic (logical names; the
    transport adds the prefix)."""
    transport.create_topics(project_topics(), settings.topic_partitions)
