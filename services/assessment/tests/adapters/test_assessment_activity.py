"""assessment's activity ledger end to end: all four topics on the embedded log → consumer runner → HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from tests.support.auth import AuthKeys
from tests.support.schema import migrated_runtime

from guidance_assessment.bootstrap import SPEC, create_app
from guidance_shared.db import make_engine
from guidance_shared.envelope import Envelope
from guidance_shared.events import default_registry
from guidance_shared.events.common import CHINA_TZ
from guidance_shared.events.examples import DEPARTMENT_ID, EXAMPLES, example
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport

REGISTRY = default_registry()
IN_2025 = datetime(2025, 6, 1, 9, 0, tzinfo=CHINA_TZ)
OTHER_DEPARTMENT = "0b0f4c1e-7a7e-4c55-9d0e-4c1f1d2a3b4c"
SECOND_GUIDANCE_ID = "6f1c2a80-3d0e-4b7c-9a55-2f3e4d5c6b7a"


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    settings = Settings.from_env("assessment", env={"GUIDANCE_VAR_DIR": str(tmp_path)})
    transport = EmbeddedTransport(settings.embedded_log, default_partitions=settings.topic_partitions)
    runtime = migrated_runtime(SPEC, settings, transport=transport, engine=make_engine(settings.database_url))
    runtime.provision()
    yield runtime
    runtime.close()


@pytest.fixture
def client(runtime: Runtime, auth_keys: AuthKeys) -> FlaskClient:
    client = create_app(runtime, testing=True, auth=auth_keys.settings()).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = auth_keys.headers("auditor-1", DEPARTMENT_ID, ["auditor"])[
        "Authorization"
    ]
    return client


def publish(
    runtime: Runtime,
    ce_type: str,
    data: dict[str, Any] | None = None,
    *,
    at: datetime = IN_2025,
    event_id: str | None = None,
) -> None:
    """Put one event on its owner's topic, keyed by its aggregate id, as having happened ``at``."""
    data = example(ce_type) if data is None else data
    event_type = REGISTRY.get(ce_type)
    assert event_type is not None
    envelope = Envelope(
        type=ce_type,
        source=f"/guidance/{event_type.topic.split('.')[0]}",
        subject=str(data[event_type.subject_field]),
        data=data,
        id=event_id or str(uuid.uuid4()),
        time=at,
    )
    runtime.transport.producer().publish([envelope.to_record(event_type.topic)])


def drain(runtime: Runtime) -> None:
    runtime.runner().drain(timeout_s=30)
    assert runtime.runner().parked_aggregates() == []


def activity(client: FlaskClient, department_id: str, year: int) -> dict[str, Any]:
    response = client.get(f"/v1/activity?department_id={department_id}&year={year}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_every_topic_counts_for_the_department_that_acted(runtime: Runtime, client: FlaskClient) -> None:
    for ce_type in EXAMPLES:  # one event of every type, from all four topics
        publish(runtime, ce_type)
    publish(
        runtime,
        "guidance.GuidanceIssued.v1",
        {**example("guidance.GuidanceIssued.v1"), "guidance_id": SECOND_GUIDANCE_ID},
    )
    drain(runtime)

    body = activity(client, DEPARTMENT_ID, 2025)
    assert body["department_id"] == DEPARTMENT_ID and body["year"] == 2025
    expected = {ce_type.split(".")[1]: 1 for ce_type in EXAMPLES} | {"GuidanceIssued": 2}
    del expected["AssessmentPeriodOpened"]  # names no single department
    del expected["PersonalDataErased"]  # names a person, no department
    assert body["events"] == expected
    assert body["total"] == sum(expected.values())
    assert {"RevisitCompleted", "ItemDisclosed", "ScorecardPublished"} <= body["events"].keys()


def test_years_are_china_calendar_years_and_departments_are_kept_apart(runtime: Runtime, client: FlaskClient) -> None:
    new_year_in_beijing = datetime(2024, 12, 31, 17, 30, tzinfo=UTC)  # 2025-01-01 01:30 in China
    publish(runtime, "guidance.GuidanceIssued.v1", at=new_year_in_beijing)
    publish(runtime, "guidance.GuidanceResponded.v1", at=datetime(2024, 12, 31, 15, 0, tzinfo=UTC))
    other = example("guidance.CaseOpened.v1")
    other["department_id"] = OTHER_DEPARTMENT
    publish(runtime, "guidance.CaseOpened.v1", other)
    drain(runtime)

    assert activity(client, DEPARTMENT_ID, 2025)["events"] == {"GuidanceIssued": 1}
    assert activity(client, DEPARTMENT_ID, 2024)["events"] == {"GuidanceResponded": 1}
    assert activity(client, OTHER_DEPARTMENT, 2025)["events"] == {"CaseOpened": 1}


def test_a_redelivered_event_is_counted_once(runtime: Runtime, client: FlaskClient) -> None:
    event_id = str(uuid.uuid4())
    publish(runtime, "guidance.CaseOpened.v1", event_id=event_id)
    publish(runtime, "guidance.CaseOpened.v1", event_id=event_id)
    drain(runtime)

    assert activity(client, DEPARTMENT_ID, 2025)["events"] == {"CaseOpened": 1}


def test_a_department_sees_only_its_own_activity(runtime: Runtime, auth_keys: AuthKeys) -> None:
    client = create_app(runtime, testing=True, auth=auth_keys.settings()).test_client()
    own = auth_keys.headers("officer-1", DEPARTMENT_ID, ["officer"])
    assert client.get(f"/v1/activity?department_id={DEPARTMENT_ID}&year=2025", headers=own).status_code == 200
    other = client.get(f"/v1/activity?department_id={OTHER_DEPARTMENT}&year=2025", headers=own)
    assert other.status_code == 404
    assert client.get(f"/v1/activity?department_id={DEPARTMENT_ID}&year=2025").status_code == 401


def test_an_unknown_department_has_no_activity(client: FlaskClient) -> None:
    nobody = str(uuid.uuid4())
    assert activity(client, nobody, 2025) == {"department_id": nobody, "year": 2025, "total": 0, "events": {}}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("year=2025", "department_id"),
        (f"department_id={DEPARTMENT_ID}", "year"),
        ("department_id=not-a-uuid&year=2025", "department_id"),
        (f"department_id={DEPARTMENT_ID}&year=twenty", "year"),
        (f"department_id={DEPARTMENT_ID}&year=1800", "year"),
    ],
)
def test_bad_query_arguments_are_a_422_problem_naming_the_field(client: FlaskClient, query: str, field: str) -> None:
    response = client.get(f"/v1/activity?{query}")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]
    assert [e["field"] for e in errors] == [field]
    assert all(e["message_en"] and e["message_zh"] for e in errors)
