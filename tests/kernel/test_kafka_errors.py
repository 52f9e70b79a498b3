"""Which reason a refused Kafka bootstrap reports: the most telling one kafka-python logged, not the last."""

from __future__ import annotations

import logging

from kafka.errors import KafkaConnectionError, KafkaTimeoutError, RequestTimedOutError

from guidance_shared.transport.kafka_transport import _LastConnectionError, explain


def _record(error: BaseException) -> logging.LogRecord:
    return logging.LogRecord("kafka.net", logging.ERROR, __file__, 1, "Abort (%s)", (error,), None)


def test_a_dropped_handshake_outranks_a_later_timeout_and_the_message_names_authentication() -> None:
    handler = _LastConnectionError()
    handler.emit(_record(KafkaConnectionError("socket disconnected")))
    handler.emit(_record(RequestTimedOutError("Request timed out after 271 ms")))
    assert handler.error is not None
    message = explain("127.0.0.1:9093", "check", handler.error)
    assert "closed the connection during the handshake" in message and "authentication" in message


def test_a_plain_timeout_is_reported_as_unreachable() -> None:
    message = explain("127.0.0.1:9093", "check", KafkaTimeoutError("Unable to bootstrap"))
    assert "unreachable or not answering" in message
