"""The direct decoder (``fast.envelopes``) agrees with the CloudEvents SDK and leaves every unusual record to it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest

from guidance_shared.envelope import Envelope, MalformedEvent
from guidance_shared.fast.envelopes import decode_plain
from guidance_shared.transport.base import Record
from tests.support.events import ISSUED, issued_data


def _full() -> Envelope:
    return Envelope(
        type=ISSUED,
        source="/guidance/intake",
        subject="g-1",
        data=issued_data("g-1"),
        time=datetime(2026, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=8))),
        dataschema="urn:guidance:schema:guidance.GuidanceIssued.v1",
        sequence=7,
        correlationid="req-1",
        causationid="cmd-1",
        traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    )


@pytest.mark.parametrize(
    "envelope",
    [_full(), Envelope(type=ISSUED, source="/guidance/intake", subject="g-2", data={"中文": "不转义"})],
    ids=["every attribute", "required only"],
)
def test_the_suites_records_decode_directly_and_exactly_as_the_sdk_decodes_them(envelope: Envelope) -> None:
    record = envelope.to_record("intake.events")
    plain = decode_plain(record)
    assert plain is not None
    attributes, data = plain
    assert Envelope(data=data, **attributes) == Envelope._from_record_sdk(record) == envelope
    assert Envelope.from_record(record) == envelope


def _with_headers(record: Record, **changes: bytes | None) -> Record:
    headers = dict(record.headers)
    for name, value in changes.items():
        if value is None:
            headers.pop(name.replace("_", "-") if name == "content_type" else name, None)
        else:
            headers[name.replace("_", "-") if name == "content_type" else name] = value
    return dataclasses.replace(record, headers=tuple(headers.items()))


@pytest.mark.parametrize(
    "changes",
    [
        {"ce_unknownext": b"x"},  # an extension we do not write
        {"ce_subject": None},  # subject from the key
        {"ce_time": b"2026-03-01T09:30:00"},  # no offset
        {"ce_specversion": b"0.3"},
        {"content_type": b"application/cloudevents+json"},
    ],
)
def test_anything_unusual_is_left_to_the_sdk(changes: dict[str, bytes | None]) -> None:
    record = _with_headers(_full().to_record("intake.events"), **changes)
    assert decode_plain(record) is None
    try:
        expected: Envelope | type[MalformedEvent] = Envelope._from_record_sdk(record)
    except MalformedEvent:
        expected = MalformedEvent
    if expected is MalformedEvent:
        with pytest.raises(MalformedEvent):
            Envelope.from_record(record)
    else:
        assert Envelope.from_record(record) == expected


@pytest.mark.parametrize(
    "record",
    [
        Record("t", b"k", b"not json", _full().to_record("t").headers),
        Record("t", b"k", b"[1, 2]", _full().to_record("t").headers),
        Record("t", b"k", b"{}", (("ce_id", b"only an id"),)),
        Record("t", b"k", b"{}", _with_headers(_full().to_record("t"), ce_sequence=b"seven").headers),
    ],
    ids=["bad json", "not an object", "missing attributes", "bad sequence"],
)
def test_malformed_records_are_still_malformed(record: Record) -> None:
    assert decode_plain(record) is None
    with pytest.raises(MalformedEvent):
        Envelope.from_record(record)


def test_a_time_in_utc_written_with_z_reads_back_equal() -> None:
    envelope = dataclasses.replace(_full(), time=datetime(2026, 3, 1, 1, 30, tzinfo=UTC))
    assert Envelope.from_record(envelope.to_record("t")) == envelope
