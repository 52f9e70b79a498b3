"""intake on the real broker: every intake event type reaches intake.events as a CloudEvent whose data
validates against the JSON Schema the service publishes; a correction check from revisit.events becomes
CorrectionVerified exactly once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from jsonschema import Draft202012Validator
from kafka import KafkaConsumer

from guidance_intake.bootstrap import SPEC, create_app
from guidance_shared.envelope import Envelope
from guidance_shared.events.examples import DEPARTMENT_ID, OFFICER_WANG, example
from guidance_shared.flow import parse_traceparent
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from tests.support.auth import AuthKeys
from tests.support.intake_keys import sealing_env
from tests.support.schema import migrated_runtime
from tests.support.services import case_command, decision_command, guidance_command

pytestmark = pytest.mark.kafka

INTAKE_TYPES = {
    "GuidanceIssued",
    "GuidanceResponded",
    "CorrectionVerified",
    "GuidanceSuspended",
    "GuidanceWithdrawn",
    "CaseOpened",
    "CaseLegalReviewed",
    "CaseDecided",
    "CaseDecisionRevoked",
    "CaseClosed",
}


@pytest.fixture
def intake(tmp_path: Path, kafka_bootstrap: str) -> Iterator[Runtime]:
    env = {
        "GUIDANCE_VAR_DIR": str(tmp_path),
        "GUIDANCE_TRANSPORT": "kafka",
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "GUIDANCE_TOPIC_PREFIX": f"e2e{uuid.uuid4().hex[:6]}",
        **sealing_env(),  # on Kafka intake makes no keys of its own; the default seals, so it is given them
    }
    runtime = migrated_runtime(SPEC, Settings.from_env("intake", env))
    runtime.provision()
    yield runtime
    runtime.close()


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _drive_every_command(client: Any, headers: dict[str, str]) -> None:
    def post(path: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
        return _ok(client.post(path, json=body, headers=headers), status)

    warning = post("/v1/guidance", guidance_command(), 201)["guidance_id"]
    post(f"/v1/guidance/{warning}/response", {"response": "accepted", "statement": "已知悉"})
    post(
        f"/v1/guidance/{warning}/correction-verification",
        {"corrected": True, "verified_on": "2025-03-12", "evidence": "现场核查已改正", "verified_by": OFFICER_WANG},
    )
    suspended = post("/v1/guidance", guidance_command(), 201)["guidance_id"]
    post(f"/v1/guidance/{suspended}/suspension", {"reason": "相对人提出异议，暂停执行"})
    post(f"/v1/guidance/{suspended}/withdrawal", {"reason": "经复核撤回"})

    case = case_command()
    case_id = post("/v1/cases", case, 201)["case_id"]
    post(
        f"/v1/cases/{case_id}/legal-review", {"legal_review": example("guidance.CaseLegalReviewed.v1")["legal_review"]}
    )
    post(f"/v1/cases/{case_id}/decision", decision_command())
    post(f"/v1/cases/{case_id}/revocation", {"reason": "复议机关撤销原处罚决定"})
    post(f"/v1/cases/{case_id}/closure", {"outcome": "revoked"})


def test_every_intake_event_type_is_a_valid_cloudevent_on_the_topic(intake: Runtime, auth_keys: AuthKeys) -> None:
    app = create_app(intake, testing=True, auth=auth_keys.settings())
    client = app.test_client()
    headers = auth_keys.headers("e2e", DEPARTMENT_ID, ["officer", "reviewer", "supervisor"])
    _drive_every_command(client, headers)
    published = intake.relay().drain()
    assert published >= len(INTAKE_TYPES)

    transport = intake.transport
    consumer = KafkaConsumer(
        transport.physical("intake.events"),
        bootstrap_servers=intake.settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=5000,
    )
    records = list(consumer)
    consumer.close()
    assert len(records) == published

    seen: set[str] = set()
    for record in records:
        headers_ = dict(record.headers)
        # Readable by the standard CloudEvents SDK, in binary content mode.
        event = ce_kafka.from_binary(
            ce_kafka.KafkaMessage(headers=headers_, key=record.key, value=record.value), JSONFormat()
        )
        attrs = event.get_attributes()
        assert attrs["specversion"] == "1.0" and attrs["source"] == "/guidance/intake"
        assert attrs["subject"] == record.key.decode() and attrs["datacontenttype"] == "application/json"
        assert uuid.UUID(attrs["id"]) and attrs["time"] and int(attrs["sequence"]) >= 1
        assert parse_traceparent(attrs["traceparent"]) is not None and attrs["correlationid"] and attrs["causationid"]
        name = attrs["type"].split(".")[1]
        assert attrs["type"] == f"guidance.{name}.v1"
        # The data validates against the JSON Schema the service publishes at its dataschema.
        published_schema = client.get(f"/schemas/events/{attrs['type']}.json").get_json()
        assert published_schema["$id"] == attrs["dataschema"]
        data = Envelope.from_record(_as_record(record)).data
        errors = sorted(
            Draft202012Validator(published_schema, format_checker=Draft202012Validator.FORMAT_CHECKER).iter_errors(
                data
            ),
            key=str,
        )
        assert not errors, f"{attrs['type']}: {errors[0].message}"
        assert "\\u" not in record.value.decode()  # Chinese travels unescaped
        seen.add(name)
    assert seen == INTAKE_TYPES


def test_a_completed_correction_check_becomes_correction_verified_once(intake: Runtime, auth_keys: AuthKeys) -> None:
    client = create_app(intake, testing=True, auth=auth_keys.settings()).test_client()
    headers = auth_keys.headers("e2e", DEPARTMENT_ID, ["officer"])
    guidance_id = _ok(client.post("/v1/guidance", json=guidance_command(), headers=headers), 201)["guidance_id"]

    completed = example("guidance.RevisitCompleted.v1")
    completed.update(guidance_id=guidance_id, case_id=None)
    completed["findings"]["corrected"] = True
    envelope = Envelope(
        type="guidance.RevisitCompleted.v1",
        source="/guidance/revisit",
        subject=completed["revisit_id"],
        data=completed,
        sequence=2,
        correlationid="revisit-flow-3",
        traceparent="00-5b8aa5a2d2c872e8321cf37308d69df2-051581bf3cb55c13-01",
    )
    record = envelope.to_record("revisit.events")
    intake.transport.producer().publish([record, record])  # delivered twice: applied once

    runner = intake.runner()
    runner.drain(timeout_s=60)
    guidance = _ok(client.get(f"/v1/guidance/{guidance_id}", headers=headers))
    assert guidance["status"] == "correction_verified"
    assert len(guidance["corrections"]) == 1
    assert guidance["corrections"][0]["revisit_id"] == completed["revisit_id"]
    stored = intake.store.load(guidance_id)  # type: ignore[union-attr]
    assert stored[-1].type == "guidance.CorrectionVerified.v1"
    # The reaction is in the revisit's flow: its correlation id, and a span of its own in its trace.
    assert stored[-1].meta["causation_id"] == envelope.id
    assert stored[-1].meta["correlation_id"] == "revisit-flow-3"
    trace = parse_traceparent(stored[-1].meta["traceparent"])
    assert (
        trace is not None
        and trace.trace_id == "5b8aa5a2d2c872e8321cf37308d69df2"
        and trace.span_id != "051581bf3cb55c13"
    )
    runner.close()


def _as_record(message: Any) -> Any:
    from guidance_shared.transport.base import Record

    return Record(message.topic, message.key, message.value, tuple(message.headers))
