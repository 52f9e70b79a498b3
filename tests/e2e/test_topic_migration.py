"""Migrating intake's topic to sealed events on the real broker (docs/operations.md, "Migrating intake's topic to
sealed events"): after ``reencrypt``, ``migrate-topic`` copies every record of intake.events to the new topic
version once, on its partition, in order, with its key and CloudEvents headers, its value as the re-encrypted
store holds it; no byte of the new topic holds a person's data in clear; a second run copies only what came since;
and a store not yet re-encrypted is refused rather than copied in clear."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import select

from guidance_intake.bootstrap import SPEC, create_app
from guidance_intake.entrypoints.cli import main
from guidance_shared.events.examples import DEPARTMENT_ID, ENTERPRISE, INDIVIDUAL_BUSINESS, PERSON
from guidance_shared.eventstore import events_table
from guidance_shared.personal_data.field import is_sealed
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.topics import provision_kafka
from tests.support.auth import AuthKeys
from tests.support.kafka import TopicFactory
from tests.support.schema import migrated_runtime
from tests.support.services import case_command, guidance_command

pytestmark = pytest.mark.kafka

SECRETS = [
    PERSON["name"],
    PERSON["id_no"],
    PERSON["address"],
    PERSON["contact"],
    INDIVIDUAL_BUSINESS["legal_representative"],
    INDIVIDUAL_BUSINESS["address"],
    INDIVIDUAL_BUSINESS["contact"],
]
OTHER = {
    **PERSON,
    "name": "李娜",
    "id_no": "11010519491231002X",
    "address": "某县城关镇人民路1号",
    "contact": "13700137000",
}
PARTITIONS = 3


def _key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


class Intake:
    def __init__(self, env: dict[str, str], monkeypatch: pytest.MonkeyPatch, auth_keys: AuthKeys) -> None:
        self.env, self.monkeypatch, self.auth_keys = env, monkeypatch, auth_keys
        self.runtime: Runtime | None = None
        self.client: Any = None

    def open(self, *, sealing: bool) -> Runtime:
        self.close()
        env = {**self.env, "GUIDANCE_SEAL_PERSONAL_DATA": "true" if sealing else "false"}
        for name, value in env.items():
            self.monkeypatch.setenv(name, value)
        self.runtime = migrated_runtime(SPEC, Settings.from_env("intake", env))
        self.client = create_app(self.runtime, testing=True, auth=self.auth_keys.settings()).test_client()
        return self.runtime

    def record(self, counterpart: dict[str, Any], *, case: bool = False) -> None:
        client = self.client
        headers = self.auth_keys.headers("officer-1", DEPARTMENT_ID, ["officer"])
        body = case_command(counterpart=counterpart) if case else guidance_command(counterpart=counterpart)
        answer = client.post("/v1/cases" if case else "/v1/guidance", json=body, headers=headers)
        assert answer.status_code == 201, answer.get_json()

    def close(self) -> None:
        if self.runtime is not None:
            self.runtime.close()
            self.runtime.engine.dispose()
            self.runtime = None


@pytest.fixture
def intake(
    tmp_path: Path,
    kafka_bootstrap: str,
    kafka_topics: TopicFactory,
    monkeypatch: pytest.MonkeyPatch,
    auth_keys: AuthKeys,
) -> Iterator[Intake]:
    prefix = kafka_topics.provision(partitions=PARTITIONS)
    env = {
        "GUIDANCE_VAR_DIR": str(tmp_path),
        "GUIDANCE_DATABASE_URL": f"sqlite:///{tmp_path}/intake.sqlite",
        "GUIDANCE_TRANSPORT": "kafka",
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "GUIDANCE_TOPIC_PREFIX": prefix,
        "GUIDANCE_TOPIC_PARTITIONS": str(PARTITIONS),
        "GUIDANCE_PERSONAL_DATA_KEKS": f"2026-01={_key()}",
        "GUIDANCE_PSEUDONYM_KEY": _key(),
    }
    service = Intake(env, monkeypatch, auth_keys)
    yield service
    service.close()


def _read(bootstrap: str, topic: str) -> dict[int, list[Any]]:
    """Every record of ``topic`` by partition, in offset order, up to its end now."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    try:
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        ends = consumer.end_offsets(parts)
        out: dict[int, list[Any]] = {tp.partition: [] for tp in parts}
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            for tp, records in consumer.poll(timeout_ms=500).items():
                out[tp.partition] += records
        return out
    finally:
        consumer.close()


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    capsys.readouterr()
    code = main(SPEC, create_app, list(argv))
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


def _identity(records: list[Any]) -> list[tuple[Any, ...]]:
    return [(r.offset, r.key, tuple(r.headers)) for r in records]


def test_intake_events_are_copied_once_in_order_sealed_to_the_new_topic_version(
    intake: Intake, kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a topic holding persons' acts and cases sent in clear before sealing, then one sealed act
    runtime = intake.open(sealing=False)
    for counterpart in (PERSON, INDIVIDUAL_BUSINESS, ENTERPRISE, OTHER):
        intake.record(counterpart)
    intake.record(PERSON, case=True)
    assert runtime.relay().drain() == 5
    runtime = intake.open(sealing=True)
    intake.record(OTHER)
    assert runtime.relay().drain() == 1
    old_prefix = intake.env["GUIDANCE_TOPIC_PREFIX"]
    new_prefix = f"{old_prefix}.v2"
    provision_kafka(kafka_bootstrap, partitions=PARTITIONS, replication_factor=1, prefix=new_prefix)
    old, new = f"{old_prefix}.intake.events", f"{new_prefix}.intake.events"
    clear = b"".join(r.value for records in _read(kafka_bootstrap, old).values() for r in records).decode("utf-8")
    assert all(value in clear for value in SECRETS)

    # when the copy is asked for before the store is re-encrypted, it refuses rather than copy a clear record
    code, _ = _cli(capsys, "migrate-topic", "--to-prefix", new_prefix)
    assert code == 1
    # and once it is, the copy runs to the end
    assert _cli(capsys, "reencrypt")[0] == 0
    assert runtime.relay().drain() == 0  # re-encrypting published nothing again
    code, copied = _cli(capsys, "migrate-topic", "--to-prefix", new_prefix)
    assert code == 0 and copied["complete"] is True, copied
    assert copied["copied"] + copied["already_copied"] == 6  # the refused run may have copied a record before

    # then every record is on the new topic once, on its partition at its offset, with its key and headers, in order
    before, after = _read(kafka_bootstrap, old), _read(kafka_bootstrap, new)
    assert {p: _identity(r) for p, r in after.items()} == {p: _identity(r) for p, r in before.items()}
    # and its value is the event as the re-encrypted store holds it: sealed, no byte of a person's data in clear
    with runtime.engine.connect() as conn:
        stored = {str(i): str(d) for i, d in conn.execute(select(events_table.c.event_id, events_table.c.data))}
    for records in after.values():
        for record in records:
            headers = dict(record.headers)
            assert record.value.decode("utf-8") == stored[headers["ce_id"].decode("utf-8")]
            raw = b"".join([record.key or b"", record.value, *headers.values()]).decode("utf-8")
            assert [value for value in SECRETS if value in raw] == []
            counterpart = json.loads(record.value)["counterpart"]
            assert counterpart["kind"] == "enterprise" or is_sealed(counterpart["address"])

    # and a second run copies only what was published since
    intake.record(PERSON)
    assert runtime.relay().drain() == 1
    code, again = _cli(capsys, "migrate-topic", "--to-prefix", new_prefix)
    assert code == 0 and again["copied"] == 1 and again["already_copied"] == 6 and again["complete"], again
    assert sum(len(r) for r in _read(kafka_bootstrap, new).values()) == 7
