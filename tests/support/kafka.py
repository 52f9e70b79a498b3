"""Pytest plugin: a real Kafka broker for the session, per-test topics, and a broker tests may restart.

Where the session broker comes from, first that works: ``KAFKA_BOOTSTRAP_SERVERS``; testcontainers'
Kafka when a Docker engine answers; the project's own ``LocalKafka`` (Java 17 + Maven). Kafka tests
are never skipped: if no broker can be had, the run fails and says what to install.
"""

from __future__ import annotations

import os
import re
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest
from kafka.admin import KafkaAdminClient

from guidance_shared.kafka_local import KafkaLocalError, LocalKafka
from guidance_shared.topics import SERVICE_GROUPS, create_topics, provision_kafka

NO_BROKER = (
    "No Kafka broker for the tests: KAFKA_BOOTSTRAP_SERVERS is not set, no Docker engine answered "
    "(testcontainers), and the local broker could not start"
)


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``host:port`` of a broker shared by the whole session (tests separate by topic prefix)."""
    configured = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if configured:
        yield configured
    elif (container := _start_container()) is not None:
        try:
            yield container.get_bootstrap_server()
        finally:
            container.stop()
    else:
        yield from _local_broker(tmp_path_factory.mktemp("kafka"))


@pytest.fixture
def kafka_topics(kafka_bootstrap: str, request: pytest.FixtureRequest) -> Iterator[TopicFactory]:
    """Topics private to one test: ``kafka_topics("orders")`` creates and names ``<prefix>.orders``."""
    topics = TopicFactory(kafka_bootstrap, _unique_prefix(request.node.name))
    try:
        yield topics
    finally:
        topics.delete_all()


@pytest.fixture
def restartable_kafka(tmp_path: Path) -> Iterator[LocalKafka]:
    """A broker of the test's own, to ``stop()`` and ``start()`` again; needs Java even with an env broker."""
    broker = LocalKafka(tmp_path / "kafka")
    try:
        broker.start()
    except KafkaLocalError as error:
        _fail(f"restartable_kafka needs a local broker of its own, even with KAFKA_BOOTSTRAP_SERVERS: {error}")
    try:
        yield broker
    finally:
        broker.stop()


class TopicFactory:
    """Creates topics under one prefix and deletes them after the test, so tests never share records."""

    def __init__(self, bootstrap_servers: str, prefix: str) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.prefix = prefix

    def __call__(self, name: str, *, partitions: int = 1, configs: dict[str, str] | None = None) -> str:
        """Create ``<prefix>.<name>`` and return that physical name."""
        physical = f"{self.prefix}.{name}"
        with _admin(self.bootstrap_servers) as admin:
            create_topics(admin, [physical], partitions, 1, configs or {})
        return physical

    def provision(self, *, partitions: int = 3, dlq_groups: tuple[str, ...] = SERVICE_GROUPS) -> str:
        """Create the project's event and dead-letter topics under the prefix, which is returned."""
        provision_kafka(
            self.bootstrap_servers,
            partitions=partitions,
            replication_factor=1,
            prefix=self.prefix,
            dlq_groups=dlq_groups,
        )
        return self.prefix

    def delete_all(self) -> None:
        """Delete every topic under the prefix, whoever created it; a shared broker should not fill up."""
        try:
            with _admin(self.bootstrap_servers) as admin:
                mine = [name for name in admin.list_topics() if name.startswith(f"{self.prefix}.")]
                if mine:
                    admin.delete_topics(mine, raise_errors=False)
        except Exception:  # best effort: cleanup must not mask the test's own outcome
            pass


def _unique_prefix(test_name: str) -> str:
    """Readable and unique; no ``_`` because Kafka treats ``.`` and ``_`` as colliding in names."""
    readable = re.sub(r"[^A-Za-z0-9]+", "-", test_name).strip("-")[:40]
    return f"t-{readable}-{uuid.uuid4().hex[:8]}"


def _admin(bootstrap_servers: str) -> KafkaAdminClient:
    return KafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="guidance-tests")


def _docker_answers() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=3)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def _start_container() -> Any | None:
    """testcontainers' Kafka if a Docker engine answers; ``None`` (use the local broker) otherwise."""
    if not _docker_answers():
        return None
    try:
        from testcontainers.community.kafka import KafkaContainer
    except ImportError:
        from testcontainers.kafka import KafkaContainer
    image = os.environ.get("GUIDANCE_KAFKA_IMAGE", "confluentinc/cp-kafka:7.6.0")
    try:
        return KafkaContainer(image).with_kraft().start(timeout=120)
    except Exception as error:  # a broken engine should not stop a machine that can run Java
        warnings.warn(f"Kafka container did not start ({error}); using the local broker", stacklevel=1)
        return None


def _local_broker(work_dir: Path) -> Iterator[str]:
    broker = LocalKafka(work_dir)
    try:
        broker.start()
    except KafkaLocalError as error:
        _fail(f"{NO_BROKER}: {error}")
    try:
        yield broker.bootstrap_servers
    finally:
        broker.stop()


def _fail(message: str) -> NoReturn:
    """Fail the run without the exception chain: the message already says what to install."""
    raise pytest.fail.Exception(message, pytrace=False) from None
