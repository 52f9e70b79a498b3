"""revisit's history end to end: intake's events on the embedded log → consumer runner → tables → HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from tests.support.auth import AuthKeys
from tests.support.schema import migrated_runtime

from guidance_revisit.bootstrap import SPEC, create_app
from guidance_shared.db import make_engine
from guidance_shared.envelope import Envelope
from guidance_shared.events import default_registry
from guidance_shared.events.common import CHINA_TZ
from guidance_shared.events.examples import CASE_ID, DEPARTMENT_ID, GUIDANCE_ID, PERSON, example
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport

REGISTRY = default_registry()


def build_runtime(var_dir: Path) -> Runtime:
    """revisit as one of its processes would build itself, with everything under ``var_dir``."""
    settings = Settings.from_env("revisit", env={"GUIDANCE_VAR_DIR": str(var_dir)})
    transport = EmbeddedTransport(settings.embedded_log, default_partitions=settings.topic_partitions)
    return migrated_runtime(SPEC, settings, transport=transport, engine=make_engine(settings.database_url))


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    runtime = build_runtime(tmp_path)
    runtime.provision()
    yield runtime
    runtime.close()


@pytest.fixture
def client(runtime: Runtime, auth_keys: AuthKeys) -> FlaskClient:
    """A client that sends an auditor's token of the examples' department with every request."""
    app = create_app(runtime, testing=True, auth=auth_keys.settings())
    app.test_client_class = _with_headers(auth_keys.headers("auditor-1", DEPARTMENT_ID, ["auditor"]))
    return app.test_client()


def _with_headers(headers: dict[str, str]) -> type[FlaskClient]:
    class Client(FlaskClient):
        def open(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            kwargs["headers"] = {**headers, **(kwargs.get("headers") or {})}
            return super().open(*args, **kwargs)

    return Client


def publish(runtime: Runtime, ce_type: str, data: dict[str, Any] | None = None, *, event_id: str | None = None) -> str:
    """Put one event on its topic as its owner would, keyed by its aggregate id; return its id."""
    data = example(ce_type) if data is None else data
    event_type = REGISTRY.get(ce_type)
    assert event_type is not None
    envelope = Envelope(
        type=ce_type,
        source=f"/guidance/{event_type.topic.split('.')[0]}",
        subject=str(data[event_type.subject_field]),
        data=data,
        id=event_id or str(uuid.uuid4()),
        time=datetime(2025, 3, 5, 10, 30, tzinfo=CHINA_TZ),
    )
    runtime.transport.producer().publish([envelope.to_record(event_type.topic)])
    return envelope.id


def drain(runtime: Runtime) -> None:
    runtime.runner().drain(timeout_s=30)
    assert runtime.runner().parked_aggregates() == []


def correction_order() -> dict[str, Any]:
    """The example guidance act, as a correction order (违法行为纠错) tied to the example case."""
    data = example("guidance.GuidanceIssued.v1")
    data.update(content_type="violation_correction", related_case_id=CASE_ID)
    return data


def rows(runtime: Runtime, table_name: str) -> list[dict[str, Any]]:
    table = runtime.projection.metadata.tables[table_name]  # type: ignore[union-attr]
    with runtime.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table))]


def test_a_case_and_its_correction_order_are_followed_to_closure_and_revocation(
    runtime: Runtime, client: FlaskClient
) -> None:
    publish(runtime, "guidance.CaseOpened.v1")
    publish(runtime, "guidance.GuidanceIssued.v1", correction_order())
    publish(runtime, "guidance.GuidanceResponded.v1")  # not revisit's concern: applied as a no-op
    publish(runtime, "guidance.CaseDecided.v1")
    publish(runtime, "guidance.CaseClosed.v1")
    publish(runtime, "guidance.CaseDecisionRevoked.v1")
    drain(runtime)

    [case] = rows(runtime, "cases")
    assert case["case_id"] == CASE_ID
    assert (case["major"], case["procedure"], case["violation_category"]) == (True, "ordinary", "食品安全")
    assert (case["status"], case["outcome"]) == ("closed", "executed")
    assert (str(case["opened_on"]), str(case["closed_on"])) == ("2025-03-03", "2025-04-15")
    assert str(case["decision_revoked_on"]) == "2025-05-10"

    response = client.get(f"/v1/history/guidance/{GUIDANCE_ID}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["guidance_id"] == GUIDANCE_ID
    assert body["content_type"] == "violation_correction"
    assert body["correction_deadline"] == "2025-03-12"
    assert (body["counterpart_kind"], body["counterpart_name"]) == ("enterprise", "某县宏达食品有限公司")
    assert body["status"] == "issued"
    assert body["issued_at"] == "2025-03-05T10:30:00+08:00"
    assert body["related_case"]["case_no"] == "某市监立〔2025〕12号"
    assert body["related_case"]["closed_on"] == "2025-04-15"
    assert client.get("/readyz").status_code == 200  # web is ready when its database answers


@pytest.mark.parametrize(
    ("ce_type", "status", "changed_at"),
    [
        ("guidance.GuidanceSuspended.v1", "suspended", "2025-03-06T09:15:00+08:00"),
        ("guidance.GuidanceWithdrawn.v1", "withdrawn", "2025-03-10T16:40:00+08:00"),
    ],
)
def test_suspension_and_withdrawal_change_the_status(
    runtime: Runtime, client: FlaskClient, ce_type: str, status: str, changed_at: str
) -> None:
    publish(runtime, "guidance.GuidanceIssued.v1")
    publish(runtime, ce_type)
    drain(runtime)

    body = client.get(f"/v1/history/guidance/{GUIDANCE_ID}").get_json()
    assert (body["status"], body["status_changed_at"]) == (status, changed_at)
    assert body["related_case_id"] is None and body["related_case"] is None


def test_an_unknown_guidance_act_is_a_404_problem(client: FlaskClient) -> None:
    unknown = str(uuid.uuid4())
    response = client.get(f"/v1/history/guidance/{unknown}")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["type"].endswith("not-found")
    assert unknown in problem["detail"] and unknown in problem["detail_zh"]


def test_a_redelivered_event_and_a_rebuild_leave_the_same_history(runtime: Runtime, tmp_path: Path) -> None:
    event_id = publish(runtime, "guidance.GuidanceIssued.v1")
    publish(runtime, "guidance.GuidanceIssued.v1", event_id=event_id)  # the relay's occasional duplicate
    publish(runtime, "guidance.CaseOpened.v1")
    publish(runtime, "guidance.GuidanceWithdrawn.v1")
    drain(runtime)
    before = (rows(runtime, "guidance_history"), rows(runtime, "cases"))
    assert len(before[0]) == 1 and before[0][0]["status"] == "withdrawn"
    runtime.runner().close()

    rebuild = build_runtime(tmp_path)  # what ``guidance-revisit rebuild`` does, in its own process
    try:
        rebuild.runner().reset()
        drain(rebuild)
        assert (rows(rebuild, "guidance_history"), rows(rebuild, "cases")) == before
    finally:
        rebuild.runner().close()
        rebuild.close()


def test_no_personal_data_of_a_natural_person_enters_the_history(runtime: Runtime) -> None:
    guidance = example("guidance.GuidanceIssued.v1")
    guidance["counterpart"] = dict(PERSON)
    case = example("guidance.CaseOpened.v1")
    case["counterpart"] = dict(PERSON)
    publish(runtime, "guidance.GuidanceIssued.v1", guidance)
    publish(runtime, "guidance.CaseOpened.v1", case)
    drain(runtime)

    stored = [
        str(value) for table in ("guidance_history", "cases") for row in rows(runtime, table) for value in row.values()
    ]
    assert PERSON["name"] in stored  # whom to revisit is kept …
    for secret in (PERSON["id_no"], PERSON["contact"], PERSON["address"]):  # … how to identify or reach them is not
        assert not any(secret in value for value in stored), secret


def sealed_person() -> dict[str, Any]:
    """The example person as intake's events carry them with sealing on (docs/personal-data.md §6)."""
    from guidance_shared.personal_data.field import FieldContext, seal
    from guidance_shared.personal_data.keys import DataKey

    key = DataKey("revisit-test-key", "a" * 64, bytes(range(32)))
    sealed = {
        name: seal(key, FieldContext("GuidanceIssued", f"counterpart.{name}"), str(PERSON[name]))
        for name in ("name", "id_no", "address", "contact")
    }
    return {**PERSON, **sealed, "subject_id": "a" * 64}


def test_a_persons_sealed_name_is_kept_as_the_redaction_mark_and_nothing_parks(
    runtime: Runtime, client: FlaskClient
) -> None:
    from guidance_shared.privacy import REDACTED

    act = example("guidance.GuidanceIssued.v1") | {"guidance_id": str(uuid.uuid4()), "counterpart": sealed_person()}
    publish(runtime, "guidance.GuidanceIssued.v1", act)
    drain(runtime)  # parks nothing: revisit holds no key, and needs none

    body = client.get(f"/v1/history/guidance/{act['guidance_id']}").get_json()
    assert (body["counterpart_kind"], body["counterpart_name"]) == ("person", REDACTED)
    assert PERSON["name"] not in str(rows(runtime, "guidance_history"))
