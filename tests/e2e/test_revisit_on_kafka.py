"""intake and revisit on the real broker: a closed major case schedules revisits on revisit.events, and a
completed correction check comes back to intake as CorrectionVerified."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer

from guidance_intake.bootstrap import SPEC as INTAKE
from guidance_intake.bootstrap import create_app as create_intake
from guidance_revisit.bootstrap import SPEC as REVISIT
from guidance_revisit.bootstrap import create_app as create_revisit
from guidance_shared.envelope import Envelope
from guidance_shared.events.examples import DEPARTMENT_ID, OFFICER_WANG, example
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.base import Record
from tests.support.auth import AuthKeys
from tests.support.intake_keys import sealing_env
from tests.support.schema import migrated_runtime
from tests.support.services import case_command, decision_command, guidance_command

pytestmark = pytest.mark.kafka


@pytest.fixture
def suite(tmp_path: Path, kafka_bootstrap: str) -> Iterator[tuple[Runtime, Runtime]]:
    env = {
        "GUIDANCE_VAR_DIR": str(tmp_path),
        "GUIDANCE_TRANSPORT": "kafka",
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "GUIDANCE_TOPIC_PREFIX": f"rv{uuid.uuid4().hex[:6]}",
    }
    intake = migrated_runtime(INTAKE, Settings.from_env("intake", {**env, **sealing_env()}))
    revisit = migrated_runtime(REVISIT, Settings.from_env("revisit", env))
    intake.provision()
    yield intake, revisit
    revisit.close()
    intake.close()


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def test_a_closed_major_case_and_a_correction_check_travel_between_intake_and_revisit(
    suite: tuple[Runtime, Runtime], auth_keys: AuthKeys
) -> None:
    intake, revisit = suite
    headers = auth_keys.headers("e2e", DEPARTMENT_ID, ["officer", "reviewer", "supervisor"])
    intake_api = create_intake(intake, testing=True, auth=auth_keys.settings()).test_client()
    revisit_api = create_revisit(revisit, testing=True, auth=auth_keys.settings()).test_client()

    case = case_command()
    case_id = _ok(intake_api.post("/v1/cases", json=case, headers=headers), 201)["case_id"]
    review = {"legal_review": example("guidance.CaseLegalReviewed.v1")["legal_review"]}
    _ok(intake_api.post(f"/v1/cases/{case_id}/legal-review", json=review, headers=headers))
    _ok(intake_api.post(f"/v1/cases/{case_id}/decision", json=decision_command(), headers=headers))
    _ok(intake_api.post(f"/v1/cases/{case_id}/closure", json={"outcome": "executed"}, headers=headers))
    guidance_id = _ok(intake_api.post("/v1/guidance", json=guidance_command(), headers=headers), 201)["guidance_id"]

    intake.relay().drain()
    revisit.runner().drain(timeout_s=60)
    assert revisit.relay().drain() == 3  # two case revisits, one correction check

    consumer = KafkaConsumer(
        revisit.transport.physical("revisit.events"),  # type: ignore[attr-defined]
        bootstrap_servers=revisit.settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=5000,
    )
    scheduled = [Envelope.from_record(Record(m.topic, m.key, m.value, tuple(m.headers))) for m in consumer]
    consumer.close()
    assert {e.type for e in scheduled} == {"guidance.RevisitScheduled.v1"}
    assert sorted(e.data["kind"] for e in scheduled) == ["case_revisit", "case_revisit", "correction_check"]
    assert {e.data["case_id"] for e in scheduled if e.data["kind"] == "case_revisit"} == {case_id}

    check = next(e for e in scheduled if e.data["kind"] == "correction_check")
    assert check.data["guidance_id"] == guidance_id
    _ok(
        revisit_api.post(
            f"/v1/revisits/{check.subject}/completion",
            headers=headers,
            json={
                "completed_on": "2025-03-12",
                "officers": [OFFICER_WANG],
                "method": "visit",
                "findings": {"corrected": True, "conduct_ok": True, "rights_explained": True, "needs_guidance": False},
                "notes": "现场核查，已改正。",
            },
        )
    )
    assert revisit.relay().drain() == 1
    intake.runner().drain(timeout_s=60)
    guidance = _ok(intake_api.get(f"/v1/guidance/{guidance_id}", headers=headers))
    assert guidance["status"] == "correction_verified"
    assert guidance["corrections"][0]["revisit_id"] == check.subject
