"""Provisioning creates the event logs and dead-letter topics once, keeping events forever."""

from __future__ import annotations

import pytest
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from guidance_shared import topics
from guidance_shared.topics import (
    EVENT_TOPICS,
    TopicProvisioningError,
    create_topics,
    physical,
    project_topics,
    provision_kafka,
)
from tests.support.kafka import TopicFactory

pytestmark = pytest.mark.kafka


def test_physical_names_carry_the_prefix_only_when_given() -> None:
    assert physical("intake.events", "") == "intake.events"
    assert physical("intake.events", "acme") == "acme.intake.events"
    assert project_topics("p")[-4:] == ["p.intake.dlq", "p.revisit.dlq", "p.disclosure.dlq", "p.assessment.dlq"]


def test_provisioning_twice_creates_the_topics_once(kafka_bootstrap: str, kafka_topics: TopicFactory) -> None:
    prefix = kafka_topics.prefix

    first = provision_kafka(kafka_bootstrap, partitions=3, replication_factor=1, prefix=prefix)
    second = provision_kafka(kafka_bootstrap, partitions=3, replication_factor=1, prefix=prefix)

    assert sorted(first) == sorted(project_topics(prefix))
    assert second == []


def test_event_and_dead_letter_topics_keep_events_forever(kafka_bootstrap: str, kafka_topics: TopicFactory) -> None:
    prefix = kafka_topics.provision(partitions=2)
    names = project_topics(prefix)

    with KafkaAdminClient(bootstrap_servers=kafka_bootstrap) as admin:
        existing = set(admin.list_topics())
        resources = [ConfigResource(ConfigResourceType.TOPIC, name, None) for name in names]
        configs = admin.describe_configs(resources, config_filter="all")["topic"]
        partitions = {t["name"]: len(t["partitions"]) for t in admin.describe_topics(names)}

    assert {f"{prefix}.{t}" for t in EVENT_TOPICS} <= existing
    assert {f"{prefix}.{g}.dlq" for g in ("intake", "revisit", "disclosure", "assessment")} <= existing
    for name in names:
        assert configs[name]["retention.ms"]["value"] == "-1", name
        assert configs[name]["cleanup.policy"]["value"] == "delete", name
        assert partitions[name] == 2


def test_an_existing_compacted_event_topic_is_refused(kafka_bootstrap: str, kafka_topics: TopicFactory) -> None:
    prefix = kafka_topics.prefix
    with KafkaAdminClient(bootstrap_servers=kafka_bootstrap) as admin:
        create_topics(admin, [f"{prefix}.intake.events"], 1, 1, {"cleanup.policy": "compact"})

    with pytest.raises(TopicProvisioningError, match=rf"{prefix}\.intake\.events has cleanup\.policy=compact"):
        provision_kafka(kafka_bootstrap, partitions=1, replication_factor=1, prefix=prefix)


def test_cli_reads_its_defaults_from_the_environment(
    kafka_bootstrap: str,
    kafka_topics: TopicFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.setenv("GUIDANCE_TOPIC_PREFIX", kafka_topics.prefix)
    monkeypatch.setenv("GUIDANCE_TOPIC_PARTITIONS", "1")

    assert topics.main(["create"]) == 0

    assert f"created {kafka_topics.prefix}.assessment.dlq" in capsys.readouterr().out
