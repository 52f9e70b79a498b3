"""One contract for the transport port, run against the embedded log and a real Kafka broker."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from guidance_shared.transport.base import ConsumedRecord, Consumer, Record, TopicPartition, Transport
from guidance_shared.transport.embedded import EmbeddedTransport, _fetch_statement


def poll_until(consumer: Consumer, count: int, timeout_s: float = 30.0) -> list[ConsumedRecord]:
    got: list[ConsumedRecord] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < count and time.monotonic() < deadline:
        got.extend(consumer.poll(500, 0.5))
    return got


class TransportContract:
    """Subclasses provide ``transport``; the topic ``t`` is fresh for every test."""

    partitions = 3

    @pytest.fixture
    def topic(self, transport: Transport) -> str:
        name = f"contract-{uuid.uuid4().hex[:8]}"
        transport.create_topics([name], self.partitions)
        return name

    def test_published_records_come_back_with_key_value_and_headers(self, transport: Transport, topic: str) -> None:
        producer = transport.producer()
        producer.publish([Record(topic, b"g-1", "指导 1".encode(), (("ce_id", b"e1"), ("ce_type", b"t")))])
        consumer = transport.consumer(f"grp-{uuid.uuid4().hex[:6]}")
        consumer.subscribe([topic], lambda _tp: None)
        [record] = poll_until(consumer, 1)
        assert (record.topic, record.key, record.value) == (topic, b"g-1", "指导 1".encode())
        assert dict(record.headers) == {"ce_id": b"e1", "ce_type": b"t"}
        consumer.close()
        producer.close()

    def test_records_of_one_key_share_a_partition_and_keep_their_order(self, transport: Transport, topic: str) -> None:
        producer = transport.producer()
        keys = [f"agg-{i}".encode() for i in range(6)]
        producer.publish([Record(topic, key, f"{key.decode()}:{n}".encode()) for n in range(5) for key in keys])
        consumer = transport.consumer(f"grp-{uuid.uuid4().hex[:6]}")
        consumer.subscribe([topic], lambda _tp: None)
        records = poll_until(consumer, 30)
        assert len(records) == 30
        for key in keys:
            mine = [r for r in records if r.key == key]
            assert len({r.partition for r in mine}) == 1
            assert [r.value for r in mine] == [f"{key.decode()}:{n}".encode() for n in range(5)]
        consumer.close()

    def test_partitioning_agrees_with_kafkas_default_partitioner(self, transport: Transport, topic: str) -> None:
        from guidance_shared.transport.embedded import partition_for

        producer = transport.producer()
        producer.publish([Record(topic, f"k{i}".encode(), b"v") for i in range(20)])
        consumer = transport.consumer(f"grp-{uuid.uuid4().hex[:6]}")
        consumer.subscribe([topic], lambda _tp: None)
        for record in poll_until(consumer, 20):
            assert record.partition == partition_for(record.key, self.partitions)
        consumer.close()

    def test_a_consumer_resumes_where_the_position_lookup_says(self, transport: Transport, topic: str) -> None:
        producer = transport.producer()
        producer.publish([Record(topic, b"same-key", str(n).encode()) for n in range(10)])
        first = transport.consumer(f"grp-{uuid.uuid4().hex[:6]}")
        first.subscribe([topic], lambda _tp: None)
        records = poll_until(first, 10)
        partition = records[0].partition
        first.close()

        stored = {TopicPartition(topic, partition): 7}
        again = transport.consumer(f"grp-{uuid.uuid4().hex[:6]}")
        again.subscribe([topic], stored.get)
        resumed = poll_until(again, 3)
        assert [r.value for r in resumed] == [b"7", b"8", b"9"]
        again.close()

    def test_committed_offsets_are_where_the_group_resumes_without_stored_positions(
        self, transport: Transport, topic: str
    ) -> None:
        producer = transport.producer()
        producer.publish([Record(topic, b"k", str(n).encode()) for n in range(4)])
        group = f"grp-{uuid.uuid4().hex[:6]}"
        first = transport.consumer(group)
        first.subscribe([topic], lambda _tp: None)
        records = poll_until(first, 4)
        first.commit({records[1].tp: records[1].offset + 1})
        first.close()
        second = transport.consumer(group)
        second.subscribe([topic], lambda _tp: None)
        assert [r.value for r in poll_until(second, 2)] == [b"2", b"3"]
        second.close()

    def test_seek_rewinds_a_partition(self, transport: Transport, topic: str) -> None:
        transport.producer().publish([Record(topic, b"k", str(n).encode()) for n in range(3)])
        consumer = transport.consumer(f"grp-{uuid.uuid4().hex[:6]}")
        consumer.subscribe([topic], lambda _tp: None)
        records = poll_until(consumer, 3)
        consumer.seek(records[0].tp, records[0].offset)
        assert [r.value for r in poll_until(consumer, 3)] == [b"0", b"1", b"2"]
        consumer.close()

    def test_lag_counts_what_is_not_yet_read(self, transport: Transport, topic: str) -> None:
        producer = transport.producer()
        producer.publish([Record(topic, b"k", str(n).encode()) for n in range(5)])
        consumer = transport.consumer(f"grp-{uuid.uuid4().hex[:6]}")
        consumer.subscribe([topic], {}.get)
        records = poll_until(consumer, 5)
        tp = records[0].tp
        consumer.seek(tp, 2)
        assert consumer.lag()[tp] == 3
        assert transport.end_offsets(topic)[tp.partition] == 5
        consumer.close()

    def test_creating_existing_topics_is_harmless(self, transport: Transport, topic: str) -> None:
        transport.create_topics([topic], self.partitions)
        assert len(transport.end_offsets(topic)) == self.partitions


class TestEmbeddedTransport(TransportContract):
    @pytest.fixture
    def transport(self, tmp_path) -> Iterator[Transport]:
        transport = EmbeddedTransport(str(tmp_path / "log.sqlite"))
        yield transport
        transport.close()

    def test_members_of_a_group_share_the_partitions(self, transport: Transport, topic: str) -> None:
        transport.producer().publish([Record(topic, f"k{i}".encode(), b"v") for i in range(30)])
        a, b = transport.consumer("shared"), transport.consumer("shared")
        a.subscribe([topic], lambda _tp: None)
        b.subscribe([topic], lambda _tp: None)
        a.poll(1, 0)  # a sees b after its next heartbeat
        a._heartbeat(force=True)  # type: ignore[attr-defined]
        got_b = poll_until(b, 1, timeout_s=2)
        got_a = poll_until(a, 1, timeout_s=2)
        assert got_a and got_b
        assert not ({r.partition for r in got_a} & {r.partition for r in got_b})

    def test_each_partition_is_read_from_its_own_position_by_one_statement_per_assignment(
        self, transport: Transport, topic: str
    ) -> None:
        other = f"contract-{uuid.uuid4().hex[:8]}"
        transport.create_topics([other], self.partitions)
        transport.producer().publish(
            [Record(t, f"k{i}".encode(), f"{t}/{i}".encode()) for t in (topic, other) for i in range(12)]
        )
        consumer = transport.consumer(f"grp-{uuid.uuid4().hex[:6]}")
        consumer.subscribe([topic, other], lambda _tp: None)
        first = poll_until(consumer, 24)
        assert sorted(r.value for r in first) == sorted(f"{t}/{i}".encode() for t in (topic, other) for i in range(12))
        rewound = next(r for r in first if r.topic == other)
        consumer.seek(rewound.tp, 0)
        again = poll_until(consumer, 1, timeout_s=2)
        assert again and {r.tp for r in again} == {rewound.tp}
        assert [r.offset for r in again] == list(range(len(again)))
        assignment = tuple(consumer.assignment)  # type: ignore[attr-defined]
        assert len(assignment) == 2 * self.partitions
        assert _fetch_statement(assignment) is _fetch_statement(assignment)
        consumer.close()


@pytest.mark.kafka
class TestKafkaTransport(TransportContract):
    @pytest.fixture
    def transport(self, kafka_bootstrap: str) -> Iterator[Transport]:
        from guidance_shared.transport.kafka_transport import KafkaTransport

        transport = KafkaTransport(kafka_bootstrap, prefix=f"t{uuid.uuid4().hex[:6]}")
        yield transport
        transport.close()

    def test_offsets_given_to_commit_go_at_most_once_an_interval_and_the_latest_at_close(
        self, transport: Transport, topic: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from kafka import TopicPartition as KafkaTP

        from guidance_shared.transport import kafka_transport

        monkeypatch.setattr(kafka_transport, "COMMIT_INTERVAL_S", 3600.0)
        transport.producer().publish([Record(topic, b"k", str(n).encode()) for n in range(4)])
        group = f"grp-{uuid.uuid4().hex[:6]}"
        first = transport.consumer(group)
        first.subscribe([topic], lambda _tp: None)
        records = poll_until(first, 4)
        tp = records[0].tp
        ktp = KafkaTP(transport.physical(topic), tp.partition)  # type: ignore[attr-defined]
        first.commit({tp: 1})  # the first goes at once
        first.commit({tp: 2})  # within the interval: held
        deadline = time.monotonic() + 30
        while first.client.committed(ktp) != 1 and time.monotonic() < deadline:  # type: ignore[attr-defined]
            first.poll(10, 0.1)  # drives the asynchronous commit
        assert first.client.committed(ktp) == 1  # type: ignore[attr-defined]
        first.commit({tp: 3})
        first.close()  # the latest, synchronously
        second = transport.consumer(group)
        second.subscribe([topic], lambda _tp: None)
        assert [r.value for r in poll_until(second, 1)] == [b"3"]
        second.close()
