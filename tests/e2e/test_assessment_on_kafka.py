"""intake, revisit and assessment on the real broker: what intake and revisit do changes a department's
live indicators in assessment, which reads their topics and nothing else.

A guidance act with a correction deadline and a closed major penalty case go in through intake; at first
the correction is unverified and the case unrevisited (0/1 each). Then revisit completes the correction
check (intake turns it into CorrectionVerified) and a case revisit: both indicators become 1/1.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer

from guidance_assessment.bootstrap import SPEC as ASSESSMENT
from guidance_assessment.bootstrap import create_app as create_assessment
from guidance_intake.bootstrap import SPEC as INTAKE
from guidance_intake.bootstrap import create_app as create_intake
from guidance_revisit.bootstrap import SPEC as REVISIT
from guidance_revisit.bootstrap import create_app as create_revisit
from guidance_shared.envelope import Envelope
from guidance_shared.events.examples import DEPARTMENT_ID, OFFICER_WANG
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.base import Record
from tests.support.auth import AuthKeys
from tests.support.intake_keys import sealing_env
from tests.support.schema import migrated_runtime
from tests.support.services import close_a_penalty_case, guidance_command

pytestmark = pytest.mark.kafka
FINDINGS = {"corrected": True, "conduct_ok": True, "rights_explained": True, "needs_guidance": False}


@pytest.fixture
def suite(tmp_path: Path, kafka_bootstrap: str) -> Iterator[tuple[Runtime, Runtime, Runtime]]:
    env = {
        "GUIDANCE_VAR_DIR": str(tmp_path),
        "GUIDANCE_TRANSPORT": "kafka",
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "GUIDANCE_TOPIC_PREFIX": f"as{uuid.uuid4().hex[:6]}",
    }
    intake = migrated_runtime(INTAKE, Settings.from_env("intake", {**env, **sealing_env()}))
    revisit = migrated_runtime(REVISIT, Settings.from_env("revisit", env))
    assessment = migrated_runtime(ASSESSMENT, Settings.from_env("assessment", env))
    intake.provision()
    yield intake, revisit, assessment
    assessment.close()
    revisit.close()
    intake.close()


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_intake_and_revisit_events_change_a_departments_live_indicators(
    suite: tuple[Runtime, Runtime, Runtime], auth_keys: AuthKeys
) -> None:
    intake, revisit, assessment = suite
    headers = auth_keys.headers("e2e", DEPARTMENT_ID, ["officer", "reviewer", "supervisor"])
    intake_api = create_intake(intake, testing=True, auth=auth_keys.settings()).test_client()
    revisit_api = create_revisit(revisit, testing=True, auth=auth_keys.settings()).test_client()
    assessment_api = create_assessment(assessment, testing=True, auth=auth_keys.settings()).test_client()
    assessment.deps = replace(assessment.deps, now=lambda: datetime(2026, 1, 10, 2, 0, tzinfo=UTC))
    _ok(assessment_api.post("/v1/assessment/periods", json={"year": 2025}, headers=headers), 201)

    def live() -> dict[str, Any]:
        assessment.runner().drain(timeout_s=60)
        body = _ok(
            assessment_api.get(f"/v1/assessment/periods/2025/departments/{DEPARTMENT_ID}/explain", headers=headers)
        )
        return {line["code"]: (line["numerator"], line["denominator"]) for line in body["indicators"]}

    # intake: a written warning with a correction deadline, and a major penalty case closed in April.
    guidance_id = _ok(intake_api.post("/v1/guidance", json=guidance_command(), headers=headers), 201)["guidance_id"]
    case_id = close_a_penalty_case(intake_api, headers)
    intake.relay().drain()

    before = live()
    assert before["written_share"] == (1, 1)
    assert before["correction_on_time"] == (0, 1)  # deadline 2025-03-12 passed, nothing verified
    assert before["revisit_coverage"] == (0, 1)  # closed penalty case in ordinary procedure, not revisited

    # revisit: schedule from intake's events, then complete the correction check and a case revisit.
    revisit.runner().drain(timeout_s=60)
    revisit.relay().drain()
    worklist = _ok(revisit_api.get("/v1/revisits", query_string={"department_id": DEPARTMENT_ID}, headers=headers))[
        "revisits"
    ]
    check = next(r for r in worklist if r["kind"] == "correction_check" and r["guidance_id"] == guidance_id)
    case_revisit = next(r for r in worklist if r["kind"] == "case_revisit" and r["case_id"] == case_id)
    for revisit_id, on in ((check["revisit_id"], "2025-03-12"), (case_revisit["revisit_id"], "2025-05-12")):
        body = {
            "completed_on": on,
            "officers": [OFFICER_WANG],
            "method": "visit",
            "findings": FINDINGS,
            "notes": "已回访。",
        }
        _ok(revisit_api.post(f"/v1/revisits/{revisit_id}/completion", json=body, headers=headers))
    revisit.relay().drain()
    intake.runner().drain(timeout_s=60)  # RevisitCompleted → CorrectionVerified
    intake.relay().drain()

    after = live()
    assert after["correction_on_time"] == (1, 1)
    assert after["revisit_coverage"] == (1, 1)
    explained = _ok(
        assessment_api.get(f"/v1/assessment/periods/2025/departments/{DEPARTMENT_ID}/explain", headers=headers)
    )
    days = next(line for line in explained["indicators"] if line["code"] == "days_to_revisit")
    assert (days["value"], days["sources"][0]["subject_id"]) == (27.0, case_id)

    # Publishing puts the scorecard on assessment.events, where any consumer reads it as a CloudEvent.
    _ok(assessment_api.post("/v1/assessment/periods/2025/publication", headers=headers), 201)
    assert assessment.relay().drain() == 2  # AssessmentPeriodOpened, ScorecardPublished
    consumer = KafkaConsumer(
        assessment.transport.physical("assessment.events"),  # type: ignore[attr-defined]
        bootstrap_servers=assessment.settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=5000,
    )
    published = [Envelope.from_record(Record(m.topic, m.key, m.value, tuple(m.headers))) for m in consumer]
    consumer.close()
    assert sorted(e.type for e in published) == [
        "guidance.AssessmentPeriodOpened.v1",
        "guidance.ScorecardPublished.v1",
    ]
    scorecard = next(e for e in published if e.type == "guidance.ScorecardPublished.v1")
    assert scorecard.data["department_id"] == DEPARTMENT_ID
    assert scorecard.data["indicators"]["revisit_coverage"]["numerator"] == 1
