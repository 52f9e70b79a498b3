"""The event contract as AsyncAPI 3.0, for the tools that read it (Studio, Generator, Modelina).

Built from the registry, like the JSON Schemas: one channel per topic, one message per event type
and version, the CloudEvents Kafka headers as message headers, and an example per message from the
catalogue's examples. The published JSON Schema of an event is self-contained (its nested types in
``$defs``, its ``$id`` the ``ce_dataschema`` URI); AsyncAPI resolves every ``$ref`` against the
whole document, so here the nested types move to ``components.schemas`` and the references follow.
A nested type defined the same way by every event that uses it (``Officer``, ``LegalBasis``, …)
becomes one shared component, so generated code has one class for it; one that differs between
events is named after its event (``CaseDecidedV1Penalty``).
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from guidance_shared.events.examples import example
from guidance_shared.events.registry import EventRegistry, EventType
from guidance_shared.version import suite_version

ASYNCAPI_VERSION = "3.0.0"
_KAFKA_BINDING = "0.5.0"
_DEFS_REF = "#/$defs/"
_SCHEMAS_REF = "#/components/schemas/"

_CE_HEADERS: dict[str, tuple[str, dict[str, str]]] = {
    "ce_id": ("event id; consumers deduplicate on it", {"format": "uuid"}),
    "ce_source": ("/guidance/<service>", {}),
    "ce_type": ("guidance.<EventName>.v<major>", {}),
    "ce_subject": ("aggregate id, also the Kafka key", {"format": "uuid"}),
    "ce_time": ("when it happened, RFC 3339 with offset", {"format": "date-time"}),
    "ce_specversion": ("CloudEvents version", {"const": "1.0"}),
    "ce_dataschema": ("URI of the JSON Schema of the data", {"format": "uri"}),
    "ce_sequence": ("aggregate version after this event", {"pattern": "^[1-9][0-9]*$"}),
    "ce_correlationid": ("id of the request or flow this event belongs to", {}),
    "ce_causationid": ("id of the command or event that caused this one", {}),
    "ce_traceparent": ("W3C trace context", {}),
    "content-type": ("data content type", {"const": "application/json"}),
}
_OPTIONAL_HEADERS = {"ce_correlationid", "ce_causationid", "ce_traceparent"}

#: Where the suite's topics are served. The host is the deployment's (``KAFKA_BOOTSTRAP_SERVERS``);
#: the county server is the one a production deployment runs: TLS and SASL SCRAM-SHA-512.
_SERVERS: dict[str, Any] = {
    "county": {
        "host": "{bootstrap}",
        "protocol": "kafka-secure",
        "title": "A county deployment's Kafka cluster",
        "description": (
            "TLS with SASL SCRAM-SHA-512, as the services connect with GUIDANCE_KAFKA_SECURITY_PROTOCOL=SASL_SSL "
            "and GUIDANCE_KAFKA_SASL_MECHANISM=SCRAM-SHA-512 (docs/operations.md, A secured Kafka). Topic names "
            "may carry the deployment's GUIDANCE_TOPIC_PREFIX."
        ),
        "variables": {
            "bootstrap": {"default": "kafka:9093", "description": "one bootstrap broker, host:port"},
        },
        "security": [{"$ref": "#/components/securitySchemes/scramSha512"}],
        "bindings": {"kafka": {"bindingVersion": _KAFKA_BINDING}},
    },
    "local": {
        "host": "localhost:9092",
        "protocol": "kafka",
        "title": "A development broker without security",
        "description": "python -m guidance_shared.kafka_local start; deploy/compose.yaml's broker is localhost:29092.",
        "bindings": {"kafka": {"bindingVersion": _KAFKA_BINDING}},
    },
}
_SECURITY_SCHEMES: dict[str, Any] = {
    "scramSha512": {
        "type": "scramSha512",
        "description": "SASL SCRAM-SHA-512 over TLS; each consumer gets its own user and ACLs from the operators.",
    }
}


def asyncapi_document(registry: EventRegistry) -> dict[str, Any]:
    """AsyncAPI 3.0: one channel per topic, one message per event type, CloudEvents Kafka headers."""
    schemas = _SharedSchemas(registry)
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for topic, event_types in _topics(registry):
        channel_id = _channel_id(topic)
        refs = {_message_id(t): {"$ref": f"#/components/messages/{_message_id(t)}"} for t in event_types}
        channels[channel_id] = {
            "address": topic,
            "description": f"Events of the {topic.split('.')[0]} service; key = aggregate id.",
            "messages": refs,
            "bindings": {
                "kafka": {
                    "topic": topic,
                    "topicConfiguration": {"retention.ms": -1, "cleanup.policy": ["delete"]},
                    "bindingVersion": _KAFKA_BINDING,
                }
            },
        }
        operations[f"publish{channel_id[0].upper()}{channel_id[1:]}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "messages": [{"$ref": f"#/channels/{channel_id}/messages/{m}"} for m in refs],
        }
        for event_type in event_types:
            messages[_message_id(event_type)] = _message(registry, event_type, schemas.payload(event_type))
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Guidance suite events (行政指导)",
            "version": suite_version(),
            "description": (
                "CloudEvents 1.0 over Kafka, binary content mode: the attributes are Kafka headers (ce_*), the "
                "data is the UTF-8 JSON value, the key is the aggregate id. Consumers deduplicate on ce_id; "
                "ce_sequence orders the events of one aggregate. Every event's data also has a standalone "
                "JSON Schema at its ce_dataschema URI (/schemas/events/<ce_type>.json on every service)."
            ),
        },
        "defaultContentType": "application/json",
        "servers": copy.deepcopy(_SERVERS),
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": schemas.components,
            "securitySchemes": copy.deepcopy(_SECURITY_SCHEMES),
        },
    }


def asyncapi_yaml(document: Mapping[str, Any]) -> str:
    """The document as YAML in its own key order (what docs/asyncapi.yaml holds), Chinese kept readable."""
    return str(yaml.safe_dump(dict(document), allow_unicode=True, sort_keys=False, width=120))


class _SharedSchemas:
    """Every event's nested types as named components, shared where all events define them alike."""

    def __init__(self, registry: EventRegistry) -> None:
        self._registry = registry
        definitions: dict[str, list[str]] = {}  # nested type name -> its definitions, as canonical JSON
        for event_type in registry.all():
            for name, body in self._json_schema(event_type).get("$defs", {}).items():
                definitions.setdefault(name, []).append(_canonical(body))
        alike = {name for name, bodies in definitions.items() if len(set(bodies)) == 1}
        # A definition is shared only if every type it refers to is shared too, so it means the same everywhere.
        changed = True
        while changed:
            changed = False
            for event_type in registry.all():
                for name, body in self._json_schema(event_type).get("$defs", {}).items():
                    if name in alike and not _refs(body) <= alike:
                        alike.discard(name)
                        changed = True
        self._shared = alike
        self.components: dict[str, Any] = {}

    def payload(self, event_type: EventType) -> dict[str, Any]:
        """The payload of ``event_type``'s message: a reference to its component, which this adds."""
        schema = self._json_schema(event_type)
        message_id = _message_id(event_type)
        names = {name: name if name in self._shared else f"{message_id}{name}" for name in schema.get("$defs", {})}
        for name, body in schema.pop("$defs", {}).items():
            self.components.setdefault(names[name], _relinked(body, names))
        for key in ("$schema", "$id"):
            schema.pop(key, None)
        self.components[message_id] = _relinked(schema, names)
        return {"$ref": f"{_SCHEMAS_REF}{message_id}"}

    def _json_schema(self, event_type: EventType) -> dict[str, Any]:
        return copy.deepcopy(self._registry.json_schema(event_type.ce_type))


def _relinked(node: Any, names: Mapping[str, str]) -> Any:
    if isinstance(node, list):
        return [_relinked(item, names) for item in node]
    if not isinstance(node, dict):
        return node
    linked = {key: _relinked(value, names) for key, value in node.items()}
    ref = linked.get("$ref")
    if isinstance(ref, str) and ref.startswith(_DEFS_REF):
        linked["$ref"] = _SCHEMAS_REF + names[ref.removeprefix(_DEFS_REF)]
    return linked


def _refs(node: Any) -> set[str]:
    if isinstance(node, list):
        return set().union(*(_refs(item) for item in node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = {node["$ref"].removeprefix(_DEFS_REF)} if str(node.get("$ref", "")).startswith(_DEFS_REF) else set()
    return found.union(*(_refs(value) for value in node.values()))


def _canonical(node: Any) -> str:
    return json.dumps(node, sort_keys=True, ensure_ascii=False)


def _topics(registry: EventRegistry) -> Iterator[tuple[str, list[EventType]]]:
    by_topic: dict[str, list[EventType]] = {}
    for event_type in registry.all():
        by_topic.setdefault(event_type.topic, []).append(event_type)
    yield from by_topic.items()


def _channel_id(topic: str) -> str:
    return "".join(part.capitalize() if i else part for i, part in enumerate(topic.split(".")))


def _message_id(event_type: EventType) -> str:
    return f"{event_type.name}V{event_type.version}"


def _source(event_type: EventType) -> str:
    return f"/guidance/{event_type.topic.split('.')[0]}"


def _headers(registry: EventRegistry, event_type: EventType) -> dict[str, Any]:
    fixed = {
        "ce_type": {"const": event_type.ce_type},
        "ce_source": {"const": _source(event_type)},
        "ce_dataschema": {"const": registry.dataschema(event_type.ce_type)},
    }
    properties = {
        name: {"type": "string", "description": text, **extra, **fixed.get(name, {})}
        for name, (text, extra) in _CE_HEADERS.items()
    }
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in _CE_HEADERS if name not in _OPTIONAL_HEADERS],
    }


def _example(registry: EventRegistry, event_type: EventType) -> dict[str, Any]:
    data = example(event_type.ce_type)
    # Fixed ids derived from the type, so the document is the same on every export.
    event_id = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:guidance:example:{event_type.ce_type}")
    subject = data.get(event_type.subject_field) if event_type.subject_field else None
    headers = {
        "ce_id": str(event_id),
        "ce_source": _source(event_type),
        "ce_type": event_type.ce_type,
        "ce_subject": str(subject or uuid.uuid5(event_id, "subject")),
        "ce_time": "2026-03-02T09:30:00+08:00",
        "ce_specversion": "1.0",
        "ce_dataschema": registry.dataschema(event_type.ce_type),
        "ce_sequence": "1",
        "ce_correlationid": str(uuid.uuid5(event_id, "correlation")),
        "content-type": "application/json",
    }
    return {
        "name": f"{_message_id(event_type)}Example",
        "summary": "the catalogue's example",
        "headers": headers,
        "payload": data,
    }


def _message(registry: EventRegistry, event_type: EventType, payload: dict[str, Any]) -> dict[str, Any]:
    schema = registry.json_schema(event_type.ce_type)
    return {
        "name": event_type.name,
        "title": schema["title"],
        "summary": schema.get("description", event_type.name),
        "contentType": "application/json",
        "headers": _headers(registry, event_type),
        "payload": payload,
        "examples": [_example(registry, event_type)],
        "bindings": {"kafka": {"key": {"type": "string", "format": "uuid"}, "bindingVersion": _KAFKA_BINDING}},
        "x-aggregate": event_type.aggregate,
        "x-ce-type": event_type.ce_type,
        "x-dataschema": registry.dataschema(event_type.ce_type),
    }
