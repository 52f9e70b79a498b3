"""The transport port (publish; consume with committed offsets) and its two adapters."""

from guidance_shared.transport.base import (
    ConsumedRecord,
    Consumer,
    PositionLookup,
    Producer,
    PublishError,
    Record,
    TopicPartition,
    Transport,
    TransportError,
)

__all__ = [
    "ConsumedRecord",
    "Consumer",
    "PositionLookup",
    "Producer",
    "PublishError",
    "Record",
    "TopicPartition",
    "Transport",
    "TransportError",
]
