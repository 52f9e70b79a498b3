"""Persons' fields on the real broker (docs/personal-data.md §6): with sealing on, intake.events carries no
person's ID number, phone, address or name in clear, in any byte of any record; a consumer without a grant
still counts and links the person by the plain pseudonym; the published JSON Schemas accept the sealed form;
and intake itself answers with what the caller sent."""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from kafka import KafkaConsumer

from guidance_intake.bootstrap import SPEC, create_app
from guidance_shared.envelope import Envelope
from guidance_shared.events.examples import DEPARTMENT_ID, INDIVIDUAL_BUSINESS, PERSON
from guidance_shared.personal_data.field import is_sealed
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.base import Record
from tests.support.auth import AuthKeys
from tests.support.schema import migrated_runtime
from tests.support.services import case_command, guidance_command

pytestmark = pytest.mark.kafka

ADMONITION = {
    "content_type": "supervisory_admonition",
    "methods": ["visit_interview", "persuasion_reminder"],
    "correction_deadline": None,
    "interview": {
        "held_at": "2025-03-04T15:00:00+08:00",
        "place": "某县市场监督管理局三楼会议室",
        "summoned": {"name": "李有福", "role": "person_in_charge"},
        "rectification_items": ["建立进货查验记录制度"],
    },
}
#: what must never appear in clear on the topic (the persons' names, numbers, phones and addresses)
SECRETS = [
    PERSON["name"],
    PERSON["id_no"],
    PERSON["address"],
    PERSON["contact"],
    INDIVIDUAL_BUSINESS["legal_representative"],
    INDIVIDUAL_BUSINESS["address"],
    INDIVIDUAL_BUSINESS["contact"],
]


def _key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


@pytest.fixture
def intake(tmp_path: Path, kafka_bootstrap: str) -> Iterator[Runtime]:
    env = {
        "GUIDANCE_VAR_DIR": str(tmp_path),
        "GUIDANCE_TRANSPORT": "kafka",
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "GUIDANCE_TOPIC_PREFIX": f"e2e{uuid.uuid4().hex[:6]}",
        "GUIDANCE_SEAL_PERSONAL_DATA": "true",
        "GUIDANCE_PERSONAL_DATA_KEKS": f"2026-01={_key()}",
        "GUIDANCE_PSEUDONYM_KEY": _key(),
    }
    runtime = migrated_runtime(SPEC, Settings.from_env("intake", env))
    runtime.provision()
    yield runtime
    runtime.close()


def _created(client: Any, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    created: dict[str, Any] = response.get_json()
    return created


def test_the_topic_carries_persons_sealed_and_linkable_and_intake_shows_them_in_clear(
    intake: Runtime, auth_keys: AuthKeys
) -> None:
    client = create_app(intake, testing=True, auth=auth_keys.settings()).test_client()
    headers = auth_keys.headers("e2e", DEPARTMENT_ID, ["officer"])
    # given an act and a case about the same person, and an admonition of an individual business's operator
    act = _created(client, "/v1/guidance", guidance_command(counterpart=PERSON), headers)
    case = _created(client, "/v1/cases", case_command(counterpart=PERSON), headers)
    admonition = _created(
        client, "/v1/guidance", guidance_command(counterpart=INDIVIDUAL_BUSINESS, **ADMONITION), headers
    )
    # when intake publishes them and a consumer without a grant reads the raw records
    published = intake.relay().drain()
    consumer = KafkaConsumer(
        intake.transport.physical("intake.events"),
        bootstrap_servers=intake.settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=5000,
    )
    records = list(consumer)
    consumer.close()
    assert len(records) == published == 3

    # then no byte of any record (key, headers, value) holds a person's data in clear
    for record in records:
        raw = b"".join([record.key or b"", record.value, *(value for _, value in record.headers)])
        assert [s for s in SECRETS if s.encode("utf-8") in raw] == []
    events = {e.subject: e for e in (Envelope.from_record(_as_record(r)) for r in records)}
    person_act, person_case = events[act["guidance_id"]].data, events[case["case_id"]].data
    business_act = events[admonition["guidance_id"]].data
    # the personal fields are sealed objects, and the published JSON Schema accepts them
    for field in ("name", "id_no", "address", "contact"):
        assert is_sealed(person_act["counterpart"][field]) and is_sealed(person_case["counterpart"][field])
    assert is_sealed(business_act["counterpart"]["legal_representative"])
    assert is_sealed(business_act["interview"]["summoned"]["name"])
    assert business_act["counterpart"]["name"] == INDIVIDUAL_BUSINESS["name"]  # the 字号: public
    for envelope in events.values():
        schema = client.get(f"/schemas/events/{envelope.type}.json").get_json()
        assert list(Draft202012Validator(schema).iter_errors(envelope.data)) == []
    # the person is one pseudonym in both events, the business another; neither is an identifier in clear
    subject = person_act["counterpart"]["subject_id"]
    assert subject == person_case["counterpart"]["subject_id"] and len(subject) == 64
    assert business_act["counterpart"]["subject_id"] not in (subject, None)

    # and intake answers and prints with what the caller sent
    shown = client.get(f"/v1/guidance/{act['guidance_id']}", headers=headers).get_json()["details"]["counterpart"]
    assert {k: shown[k] for k in PERSON} == PERSON
    assert act["details"]["counterpart"]["name"] == PERSON["name"]
    assert admonition["details"]["interview"]["summoned"]["name"] == "李有福"
    document = client.get(f"/v1/guidance/{act['guidance_id']}/document", headers=headers).get_data(as_text=True)
    assert PERSON["name"] in document


def _as_record(message: Any) -> Record:
    return Record(message.topic, message.key, message.value, tuple(message.headers))
