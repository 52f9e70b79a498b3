"""The event registry: which event types exist, how to check, read, upcast and publish their schemas.

Producers call ``validate`` (strict: an unknown field is a bug in the
producer); consumers call ``load`` (lenient: extra fields from a newer producer
are dropped, older versions are upcast first). JSON Schema and AsyncAPI are
generated from the same marshmallow schemas, so the published contract is the
code. A ``ce_type`` names a *major* version: additive changes keep it, which is
why the exported JSON Schemas allow additional properties.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, ValidationError, fields

from guidance_shared.events.common import SEALABLE, Messages, merge_messages
from guidance_shared.fast import loaders
from guidance_shared.personal_data.field import JSON_SCHEMA as SEALED_FIELD_SCHEMA

Upcaster = Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
#: the definition every personal field of an event's schema refers to (docs/personal-data.md §2)
SEALED_FIELD = "SealedPersonalField"
_COMPONENTS_REF = "#/components/schemas/"


@dataclass(frozen=True)
class EventType:
    """One event type at one major version, and where it travels."""

    name: str
    version: int
    topic: str
    aggregate: str
    schema: type[Schema]
    #: the data field holding the aggregate id (the Kafka key and ``ce_subject``); "" if not declared
    subject_field: str = ""

    @property
    def ce_type(self) -> str:
        return f"guidance.{self.name}.v{self.version}"


class UnknownEventType(LookupError):
    """No registered type (nor upcaster) for this ce_type; a consumer records and skips the event."""

    def __init__(self, ce_type: str) -> None:
        super().__init__(f"unknown event type {ce_type!r}")
        self.ce_type = ce_type


class InvalidEventData(ValueError):
    """The data does not match the schema of its type; ``messages`` is marshmallow's field-by-field dict."""

    def __init__(self, ce_type: str, messages: Mapping[str, Any]) -> None:
        super().__init__(f"invalid {ce_type}: {json.dumps(messages, ensure_ascii=False, sort_keys=True)}")
        self.ce_type = ce_type
        self.messages = dict(messages)


#: the base of ``ce_dataschema`` in documents made without a deployment's (docs/asyncapi.yaml): the example
#: public host of the deployment files, so the shape is the one a county's events carry
EXAMPLE_SCHEMA_BASE_URI = "https://guidance.example.gov.cn/schemas/events/"


class EventRegistry:
    """Event types by ce_type, with upcasters between versions. Build one per application."""

    def __init__(self, schema_base_uri: str = EXAMPLE_SCHEMA_BASE_URI) -> None:
        self.schema_base_uri = schema_base_uri
        self._types: dict[str, EventType] = {}
        self._upcasters: dict[str, Upcaster] = {}
        self._schemas: dict[str, Schema] = {}
        self._json_schemas: dict[str, dict[str, Any]] = {}
        self._loaders: dict[str, loaders.CompiledLoader | None] = {}

    def register(self, event_type: EventType) -> None:
        ce_type = event_type.ce_type
        if ce_type in self._types:
            raise ValueError(f"{ce_type} is already registered")
        if event_type.subject_field and event_type.subject_field not in event_type.schema().fields:
            raise ValueError(f"{ce_type}: subject_field {event_type.subject_field!r} is not a schema field")
        self._types[ce_type] = event_type

    def get(self, ce_type: str) -> EventType | None:
        return self._types.get(ce_type)

    def latest(self, name: str) -> EventType:
        versions = [t for t in self._types.values() if t.name == name]
        if not versions:
            raise KeyError(name)
        return max(versions, key=lambda t: t.version)

    def knows(self, ce_type: str) -> bool:
        """Registered, or an upcaster starts from it (where it leads is only known given data)."""
        return ce_type in self._types or ce_type in self._upcasters

    def all(self) -> list[EventType]:
        return list(self._types.values())

    def topic_of(self, ce_type: str) -> str:
        return self._require(ce_type).topic

    def dataschema(self, ce_type: str) -> str:
        return self.schema_base_uri + self._require(ce_type).ce_type

    # --- reading and writing data ---------------------------------------

    def add_upcaster(self, from_ce_type: str, fn: Upcaster) -> None:
        """``fn`` turns data of ``from_ce_type`` into (newer ce_type, its data); upcasters chain."""
        if from_ce_type in self._upcasters:
            raise ValueError(f"an upcaster from {from_ce_type} is already registered")
        self._upcasters[from_ce_type] = fn

    def upcast(self, ce_type: str, data: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """(newest reachable ce_type, its data); the caller's ``data`` is never modified.

        The deep copy is what protects the caller from an upcaster that edits its argument in
        place, so it is made only when there is an upcaster to run: for a current type the result
        is a shallow copy (the common case on a replay, where a deep copy would cost ~24 µs an event and
        ``load`` builds new objects anyway).
        """
        if ce_type not in self._upcasters:
            return ce_type, dict(data)
        current, payload = ce_type, copy.deepcopy(dict(data))
        seen: set[str] = set()
        while (fn := self._upcasters.get(current)) is not None:
            if current in seen:
                raise ValueError(f"upcasters loop at {current}")
            seen.add(current)
            current, payload = fn(payload)
        return current, payload

    def validate(self, ce_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Producer side: every field known and valid; returns the JSON-ready normalised data."""
        schema = self._schema(ce_type)
        errors = unknown_fields(schema, data)
        loaded: dict[str, Any] = {}
        try:
            loaded = schema.load(data)
        except ValidationError as error:
            merge_messages(errors, _as_dict(error.messages))
        if errors:
            raise InvalidEventData(ce_type, errors)
        dumped: dict[str, Any] = schema.dump(loaded)
        return dumped

    def load(self, ce_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Consumer side: upcast to the newest known version, drop unknown fields, return Python values."""
        return self.load_typed(ce_type, data)[1]

    def load_typed(self, ce_type: str, data: Mapping[str, Any]) -> tuple[EventType, dict[str, Any]]:
        """Like ``load``, also saying which type the data was upcast to, so consumers dispatch on it."""
        if not isinstance(data, Mapping):
            if not self.knows(ce_type):
                raise UnknownEventType(ce_type)
            raise InvalidEventData(ce_type, {"_schema": ["Invalid input type: expected a JSON object."]})
        final, payload = self.upcast(ce_type, data)
        event_type = self._types.get(final)
        if event_type is None:
            raise UnknownEventType(ce_type if final == ce_type else final)
        try:
            loaded: dict[str, Any] = self._schema(final).load(payload)
        except ValidationError as error:
            raise InvalidEventData(final, _as_dict(error.messages)) from error
        return event_type, loaded

    def load_value(self, ce_type: str, value: bytes) -> tuple[EventType, dict[str, Any]] | None:
        """``load_typed(ce_type, json.loads(value))`` straight from a record's bytes, or None.

        The compiled fast path (``guidance_shared.fast.loaders``): for a registered type with no upcaster whose schema
        compiles, the same result as ``load_typed`` at a fraction of the cost. None whenever the
        compiled loader does not vouch for the event (unknown type, an upcaster, invalid or unusual
        data, a schema outside the compiled subset): the caller then decodes and calls
        ``load_typed``, so what is unknown or invalid, and why, is decided there.
        """
        event_type = self._types.get(ce_type)
        if event_type is None or ce_type in self._upcasters:
            return None
        if ce_type in self._loaders:
            loader = self._loaders[ce_type]
        else:
            loader = self._loaders[ce_type] = loaders.compile_loader(self._schema(ce_type))
        if loader is None:
            return None
        data = loader.load(value)
        return None if data is None else (event_type, data)

    # --- published schemas ----------------------------------------------

    def json_schema(self, ce_type: str) -> dict[str, Any]:
        """A self-contained JSON Schema (2020-12) of the type's data, ``$id`` = its dataschema URI."""
        event_type = self._require(ce_type)
        if ce_type not in self._json_schemas:
            self._json_schemas[ce_type] = _to_json_schema(event_type, self.dataschema(ce_type))
        return copy.deepcopy(self._json_schemas[ce_type])

    def _require(self, ce_type: str) -> EventType:
        event_type = self._types.get(ce_type)
        if event_type is None:
            raise UnknownEventType(ce_type)
        return event_type

    def _schema(self, ce_type: str) -> Schema:
        if ce_type not in self._schemas:
            self._schemas[ce_type] = self._require(ce_type).schema()
        return self._schemas[ce_type]


def _as_dict(messages: Any) -> Messages:
    return dict(messages) if isinstance(messages, Mapping) else {"_schema": list(messages)}


# --- strictness for producers ------------------------------------------------


def unknown_fields(schema: Schema, data: Any) -> Messages:
    """Fields in ``data`` the schema does not declare, at any depth, as marshmallow-style messages.

    marshmallow's ``unknown=RAISE`` does not reach nested schemas, so producers' strictness is checked here.
    """
    if not isinstance(data, Mapping):
        return {}
    errors: Messages = {}
    declared = {f.data_key or name: f for name, f in schema.load_fields.items()}
    for key, value in data.items():
        if key not in declared:
            errors[key] = ["Unknown field. 未定义的字段。"]
        elif nested := _unknown_in(declared[key], value):
            errors[key] = nested
    return errors


def _unknown_in(field: fields.Field[Any], value: Any) -> Messages:
    if isinstance(field, fields.Nested) and isinstance(field.schema, Schema):
        return unknown_fields(field.schema, value)
    if isinstance(field, fields.List) and isinstance(value, list):
        return {str(i): e for i, item in enumerate(value) if (e := _unknown_in(field.inner, item))}
    if isinstance(field, fields.Dict) and field.value_field is not None and isinstance(value, Mapping):
        found = {k: _unknown_in(field.value_field, item) for k, item in value.items()}
        return {k: {"value": e} for k, e in found.items() if e}
    return {}


# --- JSON Schema ---------------------------------------------------------------


def _schema_name(schema: type[Schema] | Schema) -> str:
    return (schema if isinstance(schema, type) else type(schema)).__name__


def _to_json_schema(event_type: EventType, schema_id: str) -> dict[str, Any]:
    """Convert through apispec's OpenAPI 3.1 converter, then make the result standalone JSON Schema."""
    classes: dict[str, type[Schema]] = {}

    def resolve(schema: type[Schema] | Schema) -> str:
        cls = schema if isinstance(schema, type) else type(schema)
        classes[cls.__name__] = cls
        return cls.__name__

    plugin = MarshmallowPlugin(schema_name_resolver=resolve)
    spec = APISpec(title=event_type.ce_type, version="1", openapi_version="3.1.0", plugins=[plugin])
    root_name = resolve(event_type.schema)
    spec.components.schema(root_name, schema=event_type.schema)
    components = _fix(spec.to_dict()["components"]["schemas"])
    for name, cls in classes.items():
        _annotate(components[name], cls)
    if f'"#/$defs/{SEALED_FIELD}"' in json.dumps(components):
        components[SEALED_FIELD] = copy.deepcopy(SEALED_FIELD_SCHEMA)
    root = components.pop(root_name)
    document: dict[str, Any] = {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": schema_id,
        "title": f"{event_type.name} v{event_type.version}",
        **root,
    }
    if components:
        document["$defs"] = components
    return document


def _annotate(target: dict[str, Any], cls: type[Schema]) -> None:
    """Add what apispec does not know: the class's reason for being and its conditional rules."""
    if cls.__doc__:
        target["description"] = cls.__doc__.strip().splitlines()[0]
    rules = [rule.json_schema() for rule in getattr(cls, "rules", ())]
    if rules:
        target["allOf"] = rules


def _fix(node: Any) -> Any:
    """OpenAPI → JSON Schema: component refs become $defs, OpenAPI's "url" format becomes "uri"."""
    if isinstance(node, list):
        return [_fix(item) for item in node]
    if not isinstance(node, dict):
        return node
    fixed = {key: _fix(value) for key, value in node.items()}
    ref = fixed.get("$ref")
    if isinstance(ref, str) and ref.startswith(_COMPONENTS_REF):
        fixed["$ref"] = "#/$defs/" + ref[len(_COMPONENTS_REF) :]
    if fixed.get("format") == "url":
        fixed["format"] = "uri"
    if SEALABLE in fixed:
        return _sealable(fixed)
    return fixed


def _sealable(node: dict[str, Any]) -> dict[str, Any]:
    """A personal field (``common.Sealable``): ``oneOf`` its clear string and the sealed object."""
    bounds, types = node[SEALABLE], node.get("type")
    branches: list[dict[str, Any]] = [{"type": "string", **bounds}, {"$ref": f"#/$defs/{SEALED_FIELD}"}]
    if isinstance(types, list) and "null" in types:
        branches.append({"type": "null"})
    described = {key: node[key] for key in ("description",) if key in node}
    return {**described, "oneOf": branches}


def export_json_schemas(registry: EventRegistry, out_dir: Path) -> list[Path]:
    """Write ``<out_dir>/<ce_type>.json`` for every type, ready to publish at its dataschema URI."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for event_type in registry.all():
        path = out_dir / f"{event_type.ce_type}.json"
        path.write_text(_dumps(registry.json_schema(event_type.ce_type)), encoding="utf-8")
        written.append(path)
    return written


def _dumps(document: Mapping[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, sort_keys=True, indent=2) + "\n"
