"""The Kafka fixtures give a real broker: records go in and come out, and survive a broker restart."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient

from guidance_shared import kafka_local
from guidance_shared.kafka_local import KafkaLocalError, LocalKafka, ensure_jars
from guidance_shared.topics import create_topics
from tests.support.kafka import TopicFactory

pytestmark = pytest.mark.kafka


def produce(
    bootstrap_servers: str, topic: str, values: list[bytes], key: bytes = b"case-1", acks: int | str = 1
) -> None:
    """Send and wait for each acknowledgement: a record the broker refused fails the test here."""
    producer = KafkaProducer(bootstrap_servers=bootstrap_servers, acks=acks)
    try:
        sent = [producer.send(topic, key=key, value=value, headers=[("type", b"CaseOpened")]) for value in values]
        producer.flush(timeout=30)
        for future in sent:
            future.get(timeout=30)
    finally:
        producer.close()


def read_all(bootstrap_servers: str, topic: str, expected: int, timeout: float = 30.0) -> list[bytes]:
    """Read partition 0 from the start until ``expected`` records arrived (no consumer group needed)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    try:
        consumer.assign([TopicPartition(topic, 0)])
        consumer.seek_to_beginning()
        values: list[bytes] = []
        deadline = time.monotonic() + timeout
        while len(values) < expected and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                values += [record.value for record in records]
        return values
    finally:
        consumer.close()


def test_a_produced_record_is_consumed_with_its_key_and_headers(
    kafka_bootstrap: str, kafka_topics: TopicFactory
) -> None:
    topic = kafka_topics("roundtrip")
    produce(kafka_bootstrap, topic, [b"opened"])

    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap, enable_auto_commit=False)
    consumer.assign([TopicPartition(topic, 0)])
    consumer.seek_to_beginning()
    records = [r for batch in consumer.poll(timeout_ms=10_000).values() for r in batch]
    consumer.close()

    assert [(r.key, r.value, r.headers) for r in records] == [(b"case-1", b"opened", [("type", b"CaseOpened")])]


def test_topics_of_one_test_are_private_to_it(kafka_bootstrap: str, kafka_topics: TopicFactory) -> None:
    topic = kafka_topics("events", partitions=2)

    assert topic.startswith(f"{kafka_topics.prefix}.")
    with KafkaAdminClient(bootstrap_servers=kafka_bootstrap) as admin:
        (described,) = admin.describe_topics([topic])
    assert len(described["partitions"]) == 2


def test_a_restarted_broker_keeps_its_records_and_address(restartable_kafka: LocalKafka) -> None:
    bootstrap = restartable_kafka.bootstrap_servers
    with KafkaAdminClient(bootstrap_servers=bootstrap) as admin:
        create_topics(admin, ["history"], partitions=1, replication_factor=1, configs={"retention.ms": "-1"})
    before = [f"event-{n}".encode() for n in range(50)]
    produce(bootstrap, "history", before)

    restartable_kafka.stop()
    assert not restartable_kafka.is_running()
    restartable_kafka.start()

    assert restartable_kafka.is_running()
    assert restartable_kafka.bootstrap_servers == bootstrap
    produce(bootstrap, "history", [b"after-restart"])
    assert read_all(bootstrap, "history", expected=51) == [*before, b"after-restart"]


def test_cached_jars_need_neither_maven_nor_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lib = tmp_path / "kafka" / "9.9.9" / "lib"
    lib.mkdir(parents=True)
    (lib.parent / ".complete").write_text("done\n")
    monkeypatch.setenv("PATH", "")

    assert ensure_jars("9.9.9", cache_dir=tmp_path) == lib


def test_without_maven_the_error_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("JAVA_HOME", raising=False)

    with pytest.raises(KafkaLocalError, match="apt-get install openjdk-17-jre-headless maven"):
        ensure_jars("9.9.9", cache_dir=tmp_path)


def test_cli_status_of_a_directory_without_a_broker(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert kafka_local.main(["status", "--dir", str(tmp_path)]) == 1
    assert "not running" in capsys.readouterr().out
    assert not LocalKafka(tmp_path).is_running()


@pytest.mark.kafka
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_three_node_cluster_keeps_accepting_and_serving_records_while_one_node_is_down(tmp_path: Path) -> None:
    """The launcher the chaos campaign runs on: replication 3 with min.insync.replicas=2, so acks=all still
    succeeds with a node stopped, and the node comes back on its ports with its data."""
    cluster = kafka_local.LocalKafkaCluster(tmp_path / "cluster", brokers=3)
    try:
        cluster.start()
        assert cluster.running() == [1, 2, 3]
        bootstrap = cluster.bootstrap_servers
        with KafkaAdminClient(bootstrap_servers=bootstrap) as admin:
            create_topics(admin, ["replicated"], partitions=1, replication_factor=3, configs={})
        before = [f"event-{n}".encode() for n in range(20)]
        produce(bootstrap, "replicated", before, acks="all")

        cluster.stop_node(2)
        assert cluster.running() == [1, 3]
        produce(bootstrap, "replicated", [b"while-one-is-down"], acks="all")  # 2 in sync: min.insync.replicas
        cluster.start_node(2)

        assert cluster.running() == [1, 2, 3]
        assert read_all(bootstrap, "replicated", expected=21) == [*before, b"while-one-is-down"]
    finally:
        cluster.stop()
    assert cluster.running() == []
