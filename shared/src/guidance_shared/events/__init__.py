"""The event contract (docs/architecture.md §3): the v1 catalogue, its registry and its published schemas."""

from guidance_shared.events import assessment, disclosure, intake, revisit
from guidance_shared.events.asyncapi import asyncapi_document
from guidance_shared.events.registry import (
    EXAMPLE_SCHEMA_BASE_URI,
    EventRegistry,
    EventType,
    InvalidEventData,
    UnknownEventType,
    export_json_schemas,
)


def default_registry(schema_base_uri: str = EXAMPLE_SCHEMA_BASE_URI) -> EventRegistry:
    """A new registry holding the whole v1 catalogue; callers may add versions and upcasters to it."""
    registry = EventRegistry(schema_base_uri)
    for module in (intake, revisit, disclosure, assessment):
        for event_type in module.EVENT_TYPES:
            registry.register(event_type)
    return registry


#: The four logical topics; a deployment may prefix them (``<prefix>.intake.events``).
TOPICS = (intake.TOPIC, revisit.TOPIC, disclosure.TOPIC, assessment.TOPIC)

__all__ = [
    "EXAMPLE_SCHEMA_BASE_URI",
    "TOPICS",
    "EventRegistry",
    "EventType",
    "InvalidEventData",
    "UnknownEventType",
    "asyncapi_document",
    "default_registry",
    "export_json_schemas",
]
