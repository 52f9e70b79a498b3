"""The plain CloudEvents decoder: the records the suite writes, read without the SDK.

What it buys: the ``cloudevents`` SDK's Kafka binding costs ~36 µs a record (attribute objects,
validation, a generic data path); reading the headers directly costs a few. That saves ~30 µs of
every event on ``bench/run``'s replay phase, where the consumer spends ~65–95 µs an event with it
(README, "Benchmarks"; ``bench/results/kernel-2026-11-25-session3.json``).
Held equal to the SDK by ``tests/kernel/test_envelope.py``: the suite's records decode exactly
as ``Envelope._from_record_sdk`` decodes them, and every unusual or malformed record is declined.

It accepts only the unambiguous case, a record shaped exactly as ``Envelope.to_record`` writes
it: known headers, each once, spec 1.0, JSON content, id/source/type/subject present, an
offset-aware time, an integer sequence, a JSON object as data. Everything else (including every
malformed record) gives None and is judged by the SDK path, so this makes decoding cheaper, never
more lenient. ``Envelope.from_record`` (``guidance_shared.envelope``) tries it first.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, TypedDict

from guidance_shared.transport.base import ConsumedRecord, Record


class PlainAttributes(TypedDict):
    """An ``Envelope``'s fields but ``data``, as read from the headers."""

    id: str
    source: str
    type: str
    subject: str
    time: datetime
    dataschema: str | None
    sequence: int | None
    correlationid: str | None
    causationid: str | None
    traceparent: str | None


#: The headers ``Envelope.to_record`` writes, by attribute name; a record with any other header is declined.
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


def decode_plain(record: Record | ConsumedRecord) -> tuple[PlainAttributes, dict[str, Any]] | None:
    """The envelope's attributes and data of a record the suite wrote, or None to use the SDK."""
    attributes = plain_attributes(record)
    if attributes is None:
        return None
    try:
        data = json.loads(record.value) if record.value else {}
    except ValueError:  # UnicodeDecodeError and JSONDecodeError included
        return None
    if not isinstance(data, dict):
        return None
    return attributes, data


def plain_attributes(record: Record | ConsumedRecord) -> PlainAttributes | None:
    """``decode_plain``'s reading of the headers: the envelope's attributes but ``data``, or None."""
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
