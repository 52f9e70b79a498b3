"""The event envelope: CloudEvents 1.0 in Kafka binary content mode (ARCHITECTURE §3).

Attributes travel as ``ce_*`` headers, the data as plain UTF-8 JSON in the
value, the aggregate id as the key. The ``cloudevents`` SDK does the binding
so consumers in any language read our records with their standard SDK.

Reading goes through the SDK too, except for the records the suite itself
writes: those are decoded directly (``_decode_plain``), which is several
times cheaper and matters on a projection replay. Anything the direct decoder
does not recognise exactly is handed to the SDK, so what is accepted and what
is ``MalformedEvent`` is still the SDK's decision.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from guidance_shared.transport.base import ConsumedRecord, Record

_FORMAT = JSONFormat()
_EXTENSIONS = ("sequence", "correlationid", "causationid", "traceparent")
_Loaded = TypeVar("_Loaded")


class MalformedEvent(Exception):
    """A record that is not a readable CloudEvent; it goes to the dead-letter topic."""


def dump_json(data: Any) -> str:
    """Canonical JSON: Chinese unescaped, keys sorted, no spaces (hashes depend on it)."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


_plain_json = msgspec.json.Encoder()


def compact_json(value: Any) -> str:
    """JSON text of plain values (str, numbers, lists, dicts with str keys): Chinese unescaped, no
    spaces, keys in their given order. For projection columns that hold a list or a small object;
    ~10x cheaper than ``json.dumps``, and ``json.loads`` reads it back the same."""
    return _plain_json.encode(value).decode()


@dataclass(frozen=True)
class Envelope:
    """One event as it travels between services."""

    type: str
    source: str
    subject: str
    data: dict[str, Any]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    dataschema: str | None = None
    sequence: int | None = None
    correlationid: str | None = None
    causationid: str | None = None
    traceparent: str | None = None

    def to_record(self, topic: str) -> Record:
        attributes: dict[str, Any] = {
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "subject": self.subject,
            "time": self.time,
            "datacontenttype": "application/json",
        }
        if self.dataschema:
            attributes["dataschema"] = self.dataschema
        for name in _EXTENSIONS:
            value = getattr(self, name)
            if value is not None:
                attributes[name] = str(value)
        # Pre-serialised bytes pass through the SDK untouched, which keeps Chinese unescaped.
        event = CloudEvent(attributes=attributes, data=dump_json(self.data).encode("utf-8"))
        message = ce_kafka.to_binary(event, _FORMAT, key_mapper=lambda _e: self.subject)
        headers = tuple((name, value) for name, value in message.headers.items())
        return Record(topic=topic, key=self.subject.encode("utf-8"), value=message.value, headers=headers)

    @classmethod
    def from_record(cls, record: Record | ConsumedRecord) -> Envelope:
        """Decode a binary-mode CloudEvent; raise ``MalformedEvent`` if it is not one."""
        plain = _decode_plain(record)
        if plain is not None:
            return plain
        return cls._from_record_sdk(record)

    @classmethod
    def _from_record_sdk(cls, record: Record | ConsumedRecord) -> Envelope:
        try:
            headers = {name: value for name, value in record.headers}
            message = ce_kafka.KafkaMessage(headers=headers, key=record.key, value=record.value)
            event = ce_kafka.from_binary(message, _FORMAT)
            attrs = event.get_attributes()
            data = event.get_data()
            if isinstance(data, (bytes, str)):
                data = json.loads(data) if data else {}
            if not isinstance(data, dict):
                raise MalformedEvent("event data is not a JSON object")
            sequence = attrs.get("sequence")
            return cls(
                id=str(attrs["id"]),
                source=str(attrs["source"]),
                type=str(attrs["type"]),
                subject=str(attrs.get("subject") or (record.key or b"").decode("utf-8")),
                time=_as_datetime(attrs.get("time")),
                data=data,
                dataschema=attrs.get("dataschema"),
                sequence=int(sequence) if sequence is not None else None,
                correlationid=attrs.get("correlationid"),
                causationid=attrs.get("causationid"),
                traceparent=attrs.get("traceparent"),
            )
        except MalformedEvent:
            raise
        except Exception as exc:  # any SDK or JSON failure means the record is unreadable
            raise MalformedEvent(f"not a CloudEvent in binary mode: {exc.__class__.__name__}: {exc}") from exc


#: The headers ``to_record`` writes, by attribute name; a record with any other header takes the SDK path.
_PLAIN_HEADERS = {
    "ce_id": "id",
    "ce_source": "source",
    "ce_type": "type",
    "ce_specversion": "specversion",
    "ce_subject": "subject",
    "ce_time": "time",
    "ce_dataschema": "dataschema",
    "ce_sequence": "sequence",
    "ce_correlationid": "correlationid",
    "ce_causationid": "causationid",
    "ce_traceparent": "traceparent",
    "content-type": "datacontenttype",
}


def _decode_plain(record: Record | ConsumedRecord) -> Envelope | None:
    """The envelope of a record shaped exactly as ``to_record`` writes it, or None to use the SDK.

    The SDK binding costs ~36 µs a record (attribute objects, validation, a generic data path);
    this costs a few. It accepts only the unambiguous case: known headers, each once, spec 1.0,
    JSON content, id/source/type present, an offset-aware time, an integer sequence, a JSON object
    as data. Everything else (including every malformed record) returns None and is judged by the
    SDK path, so this can only make decoding faster, never more lenient.
    """
    attributes = _plain_attributes(record)
    if attributes is None:
        return None
    try:
        data = json.loads(record.value) if record.value else {}
    except ValueError:  # UnicodeDecodeError and JSONDecodeError included
        return None
    if not isinstance(data, dict):
        return None
    return Envelope(data=data, **attributes)


def _plain_attributes(record: Record | ConsumedRecord) -> dict[str, Any] | None:
    """``_decode_plain``'s reading of the headers: the envelope's attributes but ``data``, or None."""
    attrs: dict[str, str] = {}
    try:
        for name, raw in record.headers:
            attribute = _PLAIN_HEADERS.get(name)
            if attribute is None or attribute in attrs:
                return None
            attrs[attribute] = raw.decode("utf-8")
        if (
            attrs.get("specversion") != "1.0"
            or not attrs.get("id")
            or not attrs.get("source")
            or not attrs.get("type")
            or not attrs.get("subject")
            or attrs.get("datacontenttype", "application/json") != "application/json"
        ):
            return None
        time_text = attrs.get("time")
        moment = datetime.fromisoformat(time_text) if time_text else datetime.now(UTC)
        if moment.tzinfo is None:
            return None
        sequence = attrs.get("sequence")
        sequence_number = int(sequence) if sequence is not None else None
    except (UnicodeDecodeError, ValueError):
        return None
    return {
        "id": attrs["id"],
        "source": attrs["source"],
        "type": attrs["type"],
        "subject": attrs["subject"],
        "time": moment,
        "dataschema": attrs.get("dataschema"),
        "sequence": sequence_number,
        "correlationid": attrs.get("correlationid"),
        "causationid": attrs.get("causationid"),
        "traceparent": attrs.get("traceparent"),
    }


def read_plain_record(
    record: Record | ConsumedRecord, load: Callable[[str, bytes], _Loaded | None]
) -> tuple[Envelope, _Loaded] | None:
    """``(Envelope.from_record(record), load(type, value))`` at a fraction of the cost, or None.

    For a consumer that reads the data straight from the value's bytes (the registry's compiled
    loaders): the headers are read as ``_decode_plain`` reads them, ``load`` gets the event type and
    the raw value, and the envelope's ``data`` (the JSON object, which consumers rarely need) is
    decoded only if someone reads it, by the same ``json.loads``. ``load`` must return None unless
    the value is a JSON object; None from either step means: use ``from_record`` as usual.
    """
    attributes = _plain_attributes(record)
    if attributes is None:
        return None
    loaded = load(attributes["type"], record.value)
    if loaded is None:
        return None
    envelope = object.__new__(_ValueDataEnvelope)  # the dataclass __init__ would need the data
    envelope.__dict__.update(attributes, _value=record.value)
    return envelope, loaded


class _ValueDataEnvelope(Envelope):
    """An ``Envelope`` whose ``data`` is ``json.loads`` of the record's value, decoded on first access.

    Equal to (and indistinguishable in its fields from) the ``Envelope`` that ``from_record`` builds;
    built by ``read_plain_record``, or by the inherited ``__init__`` (``dataclasses.replace``).
    """

    @property
    def data(self) -> dict[str, Any]:
        state = self.__dict__
        if "_data" not in state:
            state["_data"] = json.loads(state["_value"])
        decoded: dict[str, Any] = state["_data"]
        return decoded

    @data.setter
    def data(self, value: dict[str, Any]) -> None:  # only for the dataclass machinery; never called here
        self.__dict__["_data"] = value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Envelope):
            return NotImplemented
        return all(getattr(self, f.name) == getattr(other, f.name) for f in dataclass_fields(Envelope))

    __hash__ = Envelope.__hash__

    def __repr__(self) -> str:
        values = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in dataclass_fields(Envelope))
        return f"Envelope({values})"


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if value is None:
        return datetime.now(UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
