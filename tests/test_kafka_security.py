"""Issue 12, point 6: the kernel's Kafka clients over SASL_SSL (SCRAM-SHA-512, a CA made at test time).

The broker is the project's own ``LocalKafka`` with its ``sasl_ssl`` listener: keytool makes a CA and the
broker's PKCS12 keystore, the SCRAM user is written at storage-format time. The clients are configured
only through the ``GUIDANCE_KAFKA_*`` variables, as a deployment would configure them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from guidance_shared.kafka_local import KafkaLocalError, LocalKafka
from guidance_shared.kernel import make_transport
from guidance_shared.runtime import Runtime, ServiceSpec
from guidance_shared.settings import Settings
from guidance_shared.topics import provision_kafka
from guidance_shared.transport.base import PublishError, Record, Transport, TransportError
from tests.support.events import guidance_story
from tests.support.projections import Tally
from tests.support.schema import migrated_runtime

pytestmark = pytest.mark.kafka


@pytest.fixture(scope="module")
def secured_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafka]:
    broker = LocalKafka(tmp_path_factory.mktemp("kafka-sasl-ssl"), sasl_ssl=True)
    try:
        broker.start()
    except KafkaLocalError as error:
        pytest.fail(f"the SASL_SSL broker needs Java 17+ with keytool and Maven: {error}")
    try:
        yield broker
    finally:
        broker.stop()


def secured_env(broker: LocalKafka, **overrides: str) -> dict[str, str]:
    prefix = f"sec{uuid.uuid4().hex[:6]}"
    return {"GUIDANCE_TRANSPORT": "kafka", "GUIDANCE_TOPIC_PREFIX": prefix, **broker.sasl_ssl_client(), **overrides}


def transport_for(env: dict[str, str]) -> Transport:
    return make_transport(Settings.from_env("intake", env))


def test_the_listener_refuses_a_plaintext_client(secured_broker: LocalKafka) -> None:
    """The SASL_SSL port really is secured: a client without TLS and credentials gets nowhere."""
    env = {"GUIDANCE_TRANSPORT": "kafka", "KAFKA_BOOTSTRAP_SERVERS": secured_broker.sasl_ssl_bootstrap_servers}
    transport = transport_for(env)
    try:
        with pytest.raises(TransportError, match=r"Kafka at 127\.0\.0\.1"):
            transport.check(timeout_s=3)
    finally:
        transport.close()


def test_an_event_is_produced_and_consumed_over_sasl_ssl(secured_broker: LocalKafka) -> None:
    env = secured_env(secured_broker)
    transport = transport_for(env)
    producer = transport.producer()
    consumer = transport.consumer("sec-intake", client_id="sec-test")
    try:
        transport.check()
        transport.create_topics(["intake.events"], 1)
        producer.publish([Record("intake.events", b"case-1", b'{"type": "guidance.recorded"}', (("h", b"1"),))])
        consumer.subscribe(["intake.events"], lambda _tp: None)
        got = []
        for _ in range(60):  # bounded by count: each poll waits at most 1 s for the group to form
            got += consumer.poll(10, 1.0)
            if got:
                break
        assert [(r.topic, r.key, r.value) for r in got] == [
            ("intake.events", b"case-1", b'{"type": "guidance.recorded"}')
        ]
        assert transport.end_offsets("intake.events") == {0: 1}
    finally:
        consumer.close()
        producer.close()
        transport.close()


def test_provisioning_uses_the_same_security(secured_broker: LocalKafka) -> None:
    env = secured_env(secured_broker)
    settings = Settings.from_env("intake", env)
    created = provision_kafka(
        settings.kafka_bootstrap_servers,
        partitions=1,
        replication_factor=1,
        prefix=settings.topic_prefix,
        client_options=settings.kafka_security.client_options(),
    )
    assert f"{settings.topic_prefix}.intake.events" in created


def test_a_wrong_password_fails_with_an_error_naming_authentication(secured_broker: LocalKafka) -> None:
    env = secured_env(secured_broker, GUIDANCE_KAFKA_SASL_PASSWORD="not-the-password")
    transport = transport_for(env)
    producer = transport.producer()
    try:
        # As a rule "authentication failed" with the broker's SaslAuthenticationFailedError; when kafka-python
        # sees the refused login only as a closed socket, a handshake refused "…or authentication". Either way
        # the message names the settings to check, within the bound.
        with pytest.raises(TransportError, match="authentication") as checked:
            transport.check(timeout_s=5)
        assert "GUIDANCE_KAFKA_SASL_" in str(checked.value)
        # The relay's publish fails too, bounded by the producer's max_block_ms, naming the broker (and, as a
        # rule, the refused login: kafka-python sometimes sees only the dropped socket within that bound).
        with pytest.raises(PublishError, match=r"Kafka at 127\.0\.0\.1"):
            producer.publish([Record("intake.events", b"k", b"v", ())])
    finally:
        producer.close()
        transport.close()


def test_an_untrusted_certificate_fails_with_an_error_naming_tls(secured_broker: LocalKafka, tmp_path: Path) -> None:
    other_ca = tmp_path / "other-ca.pem"
    other_ca.write_text(Path("/etc/ssl/certs/ca-certificates.crt").read_text())
    env = secured_env(secured_broker, GUIDANCE_KAFKA_SSL_CAFILE=str(other_ca))
    transport = transport_for(env)
    try:
        with pytest.raises(TransportError, match="TLS failed"):
            transport.check(timeout_s=3)
    finally:
        transport.close()


def runtime_for(env: dict[str, str], tmp_path: Path) -> Runtime[None]:
    """A worker's runtime built from the variables alone: it consumes intake's events into a Tally."""
    spec: ServiceSpec[None] = ServiceSpec(
        name="disclosure", publishes=None, consumes=("intake.events",), projection=lambda _rt: Tally()
    )
    env = {**env, "GUIDANCE_DATABASE_URL": f"sqlite:///{tmp_path / 'disclosure.sqlite'}"}
    return migrated_runtime(spec, Settings.from_env("disclosure", env))


def test_a_worker_runtime_consumes_and_is_ready_over_sasl_ssl(secured_broker: LocalKafka, tmp_path: Path) -> None:
    runtime = runtime_for(secured_env(secured_broker), tmp_path)
    try:
        runtime.provision()
        story = guidance_story(3, responses=1)
        producer = runtime.transport.producer()  # the relay's producer, with the same options
        producer.publish(story)
        producer.close()
        runner = runtime.runner()
        assert runner.drain(timeout_s=60, idle_polls=2) == len(story)
        assert runtime.projection is not None
        assert isinstance(runtime.projection, Tally)
        assert {row[1] for row in runtime.projection.rows(runtime.engine).values()} == {2}
        for name, check in runtime.worker_checks().items():
            check()  # database, broker (authenticated), consumer lag: all pass
            assert name in ("database", "broker", "consumer_lag")
    finally:
        runtime.close()


def test_the_worker_is_not_ready_when_the_broker_refuses_its_password(
    secured_broker: LocalKafka, tmp_path: Path
) -> None:
    """The port is open, so a TCP probe would say ready; the broker check logs in as the clients do."""
    env = secured_env(secured_broker, GUIDANCE_KAFKA_SASL_PASSWORD="not-the-password")
    runtime = runtime_for(env, tmp_path)
    try:
        with pytest.raises(TransportError, match="authentication"):
            runtime.worker_checks()["broker"]()
    finally:
        runtime.close()


def test_a_restarted_secured_broker_keeps_its_listener_certificate_and_user(secured_broker: LocalKafka) -> None:
    """Last in the module: it restarts the shared broker. Ports, keystore and SCRAM user outlive a restart."""
    before = secured_broker.sasl_ssl_client()
    secured_broker.stop()
    secured_broker.start()
    assert secured_broker.sasl_ssl_client() == before
    transport = transport_for(secured_env(secured_broker))
    try:
        transport.check()
    finally:
        transport.close()


def test_sasl_ssl_needs_a_fresh_work_dir(tmp_path: Path) -> None:
    """A broker formatted without SASL_SSL has no SCRAM user: adding the listener later is refused, not half-done."""
    work = tmp_path / "plain"
    (work / "data").mkdir(parents=True)
    (work / "data" / "meta.properties").write_text("version=1\n")
    (work / "local-kafka.json").write_text('{"broker_port": 1, "controller_port": 2}\n')
    with pytest.raises(KafkaLocalError, match="fresh work dir"):
        LocalKafka(work, sasl_ssl=True).start()
