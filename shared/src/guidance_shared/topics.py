"""Kafka topic provisioning: the four event logs, the ledger's checkpoints and the consumer groups' dead letters.

The topics are the event history itself, so they keep records forever
(``retention.ms=-1``) and are never compacted: compaction keeps only the last
record per key and would erase an aggregate's past. Brokers run with
``auto.create.topics.enable=false``; topics exist only because this module
created them.

CLI: ``python -m guidance_shared.topics create --bootstrap HOST:PORT [--partitions N]
[--replication-factor N] [--prefix P]``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient
from kafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from guidance_shared.settings import SettingsError, TopicDefaults

EVENT_TOPICS = ("intake.events", "revisit.events", "disclosure.events", "assessment.events")
SERVICE_GROUPS = ("intake", "revisit", "disclosure", "assessment")
#: where each service's worker sends the ledger's signed checkpoints (``guidance_shared.checkpoints``): kept
#: forever like the event logs, and out of reach of the databases' writers
CHECKPOINT_TOPIC = "audit.checkpoints"
EVENT_LOG_CONFIGS = {"retention.ms": "-1", "cleanup.policy": "delete"}


class TopicProvisioningError(RuntimeError):
    """A topic could not be created, or an existing one is configured to lose events."""


def dlq_topic(group: str) -> str:
    """Dead-letter topic of a consumer group: where it parks records it cannot apply."""
    return f"{group}.dlq"


def physical(topic: str, prefix: str = "") -> str:
    """The broker-side name of a logical topic; a prefix lets tests and tenants share one cluster."""
    return f"{prefix}.{topic}" if prefix else topic


def project_topics(prefix: str = "", dlq_groups: Iterable[str] = SERVICE_GROUPS) -> list[str]:
    """Every physical topic the suite needs under ``prefix``."""
    logical = [*EVENT_TOPICS, CHECKPOINT_TOPIC, *(dlq_topic(group) for group in dlq_groups)]
    return [physical(topic, prefix) for topic in logical]


def provision_kafka(
    bootstrap_servers: str,
    *,
    partitions: int,
    replication_factor: int,
    prefix: str = "",
    dlq_groups: Iterable[str] = SERVICE_GROUPS,
    client_options: Mapping[str, Any] | None = None,
) -> list[str]:
    """Create the missing project topics and return the names created; safe to run at every deploy.

    Topics that already exist are left alone, but provisioning fails if one of them would delete
    or compact events (wrong ``retention.ms`` or ``cleanup.policy``), rather than hiding it.
    ``client_options``: the security options (``KafkaSecurity.client_options()``).
    """
    names = project_topics(prefix, dlq_groups)
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="guidance-topics", **(client_options or {}))
    try:
        created = create_topics(admin, names, partitions, replication_factor, EVENT_LOG_CONFIGS)
        _check_event_log_configs(admin, [name for name in names if name not in created])
    finally:
        admin.close()
    return created


def create_topics(
    admin: KafkaAdminClient,
    names: Sequence[str],
    partitions: int,
    replication_factor: int,
    configs: dict[str, str],
) -> list[str]:
    """Create ``names`` (existing ones are fine) and wait until each has a leader; return the new ones."""
    request = {
        name: {"num_partitions": partitions, "replication_factor": replication_factor, "configs": configs}
        for name in names
    }
    response = admin.create_topics(request, raise_errors=False)
    created: list[str] = []
    failures: dict[str, list[str]] = {}  # one line per distinct reason, not per topic
    for topic in response["topics"]:
        error = for_code(topic["error_code"])
        if topic["error_code"] == 0:
            created.append(topic["name"])
        elif error is not TopicAlreadyExistsError:
            reason = f"{error.__name__}: {topic.get('error_message') or error.description}"
            failures.setdefault(reason, []).append(topic["name"])
    if failures:
        lines = [f"{', '.join(names)} -> {reason}" for reason, names in failures.items()]
        raise TopicProvisioningError("could not create Kafka topics:\n" + "\n".join(lines))
    admin.wait_for_topics(created, timeout_ms=30_000)
    return created


def _check_event_log_configs(admin: KafkaAdminClient, names: Sequence[str]) -> None:
    if not names:
        return
    wanted = list(EVENT_LOG_CONFIGS)
    resources = [ConfigResource(ConfigResourceType.TOPIC, name, wanted) for name in names]
    described = admin.describe_configs(resources, config_filter="all")["topic"]
    wrong = [
        f"{name} has {key}={actual}"
        for name in names
        for key, expected in EVENT_LOG_CONFIGS.items()
        if (actual := _config_value(described[name], key)) != expected
    ]
    if wrong:
        raise TopicProvisioningError(
            "existing topics would lose events: " + "; ".join(wrong) + " (expected retention.ms=-1, "
            "cleanup.policy=delete; fix with kafka-configs --alter)"
        )


def _config_value(configs: Mapping[str, Mapping[str, Any]], key: str) -> str | None:
    entry = configs.get(key)
    return None if entry is None else entry.get("value")


# --- CLI ----------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    defaults = TopicDefaults.from_env()
    parser = argparse.ArgumentParser(prog="python -m guidance_shared.topics", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create the event and dead-letter topics")
    create.add_argument("--bootstrap", default=defaults.bootstrap, help="host:port[,…]")
    create.add_argument("--partitions", type=int, default=defaults.partitions)
    create.add_argument("--replication-factor", type=int, default=defaults.replication_factor)
    create.add_argument("--prefix", default=defaults.prefix)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not args.bootstrap:
        print("error: give --bootstrap HOST:PORT or set KAFKA_BOOTSTRAP_SERVERS", file=sys.stderr)
        return 2
    try:
        created = provision_kafka(
            args.bootstrap,
            partitions=args.partitions,
            replication_factor=args.replication_factor,
            prefix=args.prefix,
            client_options=TopicDefaults.from_env().security.client_options(),
        )
    except (TopicProvisioningError, KafkaError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    names = project_topics(args.prefix)
    for name in names:
        print(f"{'created' if name in created else 'exists '} {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
