"""The event contract (docs/architecture.md §3): the v1 catalogue, its registry and its published schemas."""

from guidance_shared.events import assessment, disclosure, intake, revisit
from guidance_shared.events.registry import (
    EventRegistry,
    EventType,
    InvalidEventData,
    UnknownEventType,
    asyncapi_document,
    default_registry,
    export_json_schemas,
)

#: The four logical topics; a deployment may prefix them (``<prefix>.intake.events``).
TOPICS = (intake.TOPIC, revisit.TOPIC, disclosure.TOPIC, assessment.TOPIC)

__all__ = [
    "TOPICS",
    "EventRegistry",
    "EventType",
    "InvalidEventData",
    "UnknownEventType",
    "asyncapi_document",
    "default_registry",
    "export_json_schemas",
]
