"""The Kafka consumer's header conversion: kafka-python's (name, bytes | None) list as the port's tuple."""

from __future__ import annotations

from guidance_shared.transport.kafka_transport import _headers


def test_bytes_headers_pass_through_as_a_tuple() -> None:
    headers = [("ce_id", b"1"), ("ce_type", b"guidance.X.v1")]
    assert _headers(headers) == (("ce_id", b"1"), ("ce_type", b"guidance.X.v1"))
    assert _headers([]) == ()


def test_a_null_or_odd_value_is_normalised_to_bytes() -> None:
    converted = _headers([("a", None), ("b", b"x"), ("c", bytearray(b"y"))])  # type: ignore[list-item]
    assert converted == (("a", b""), ("b", b"x"), ("c", b"y"))
    assert all(type(value) is bytes for _name, value in converted)
