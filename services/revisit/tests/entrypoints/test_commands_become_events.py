"""A command body becomes a typed command and then exactly this event data (the producer's contract)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.support.auth import AuthKeys
from tests.support.schema import migrated_runtime

from guidance_revisit.bootstrap import SPEC, create_app
from guidance_revisit.domain.reminders import PlannedReminder
from guidance_revisit.handlers import reminder_plans
from guidance_revisit.handlers.reminder_plans import plan_id_for
from guidance_shared.envelope import Envelope
from guidance_shared.events.examples import CASE_ID, DEPARTMENT_ID, OFFICER_WANG, example
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport

NOW = datetime(2025, 5, 20, 1, 0, tzinfo=UTC)
AT = "2025-05-20T01:00:00+00:00"


@pytest.fixture
def service(tmp_path: Path, auth_keys: AuthKeys):
    transport = EmbeddedTransport(str(tmp_path / "log.sqlite"))
    transport.create_topics(["intake.events", "revisit.events", "revisit.dlq"], 3)
    runtime: Runtime = migrated_runtime(
        SPEC, Settings.from_env("revisit", {"GUIDANCE_VAR_DIR": str(tmp_path)}), transport=transport
    )
    runtime.deps = replace(runtime.deps, now=lambda: NOW)
    for seq, (name, changes) in enumerate(
        [("CaseOpened", {}), ("CaseClosed", {"major": True, "closed_at": "2025-03-10T15:00:00+08:00"})], start=1
    ):
        data = example(f"guidance.{name}.v1") | {"case_id": CASE_ID, **changes}
        envelope = Envelope(
            type=f"guidance.{name}.v1", source="/guidance/intake", subject=CASE_ID, data=data, sequence=seq
        )
        transport.producer().publish([envelope.to_record("intake.events")])
    runtime.runner().drain()
    client = create_app(runtime, testing=True, auth=auth_keys.settings()).test_client()
    yield runtime, client, auth_keys
    runtime.close()


def last_event(runtime: Runtime, stream_id: str) -> tuple[str, dict[str, Any]]:
    assert runtime.store is not None
    event = runtime.store.load(stream_id)[-1]
    return event.type, event.data


def open_revisits(client: Any, keys: AuthKeys) -> list[str]:
    body = client.get(
        "/v1/revisits",
        query_string={"department_id": DEPARTMENT_ID},
        headers=keys.headers("a", DEPARTMENT_ID, ["auditor"]),
    ).get_json()
    return [row["revisit_id"] for row in body["revisits"]]


def test_revisit_commands(service) -> None:
    runtime, client, keys = service
    officer = keys.headers("officer-1", DEPARTMENT_ID, ["officer", "supervisor"])
    first, second = open_revisits(client, keys)

    done = client.post(
        f"/v1/revisits/{first}/completion",
        headers=officer,
        json={
            "completed_on": "2025-04-08",
            "officers": [OFFICER_WANG, {"name": "李四"}],
            "method": "visit",
            "findings": {"conduct_ok": True, "rights_explained": True, "needs_guidance": False},
        },
    )
    assert done.status_code == 200, done.get_json()
    assert last_event(runtime, first) == (
        "guidance.RevisitCompleted.v1",
        {
            "revisit_id": first,
            "department_id": DEPARTMENT_ID,
            "case_id": CASE_ID,
            "guidance_id": None,
            "completed_on": "2025-04-08",
            "officers": [OFFICER_WANG, {"name": "李四", "badge_no": None, "officer_id": None}],
            "method": "visit",
            "findings": {"corrected": None, "conduct_ok": True, "rights_explained": True, "needs_guidance": False},
            "notes": None,
        },
    )

    moved = client.post(
        f"/v1/revisits/{second}/rescheduling", headers=officer, json={"due_on": "2025-06-20", "reason": "外出"}
    )
    assert moved.status_code == 200, moved.get_json()
    assert last_event(runtime, second) == (
        "guidance.RevisitRescheduled.v1",
        {
            "revisit_id": second,
            "department_id": DEPARTMENT_ID,
            "previous_due_on": "2025-06-08",
            "due_on": "2025-06-20",
            "reason": "外出",
            "at": AT,
        },
    )

    cancelled = client.post(f"/v1/revisits/{second}/cancellation", headers=officer, json={"reason": "已注销"})
    assert cancelled.status_code == 200, cancelled.get_json()
    assert last_event(runtime, second) == (
        "guidance.RevisitCancelled.v1",
        {"revisit_id": second, "department_id": DEPARTMENT_ID, "reason": "已注销", "at": AT},
    )


def test_reminder_plan_decisions_name_the_caller_when_the_body_names_no_one(service) -> None:
    runtime, client, keys = service
    basis = example("guidance.ReminderPlanned.v1")["basis"]
    reminder = PlannedReminder(DEPARTMENT_ID, "食品安全", date(2025, 7, 1), date(2025, 7, 31), date(2025, 6, 17), basis)
    plan_id = plan_id_for(DEPARTMENT_ID, "食品安全", date(2025, 7, 1))
    assert reminder_plans.plan_one(runtime.deps, reminder)
    supervisor = keys.headers("主任-1", DEPARTMENT_ID, ["supervisor"])
    url = f"/v1/reminder-plans/{plan_id}"

    assert client.post(f"{url}/acceptance", headers=supervisor, json={}).status_code == 200
    assert last_event(runtime, plan_id) == (
        "guidance.ReminderPlanAccepted.v1",
        {
            "plan_id": plan_id,
            "department_id": DEPARTMENT_ID,
            "accepted_by": {"name": "主任-1", "badge_no": None, "officer_id": None},
            "at": AT,
        },
    )
    body = {"peak_period": {"from": "2025-06-20", "to": "2025-07-31"}, "notify_on": "2025-06-06", "reason": "提前"}
    assert client.post(f"{url}/adjustment", headers=supervisor, json=body | {"by": OFFICER_WANG}).status_code == 200
    assert last_event(runtime, plan_id) == (
        "guidance.ReminderPlanAdjusted.v1",
        {"plan_id": plan_id, "department_id": DEPARTMENT_ID, **body, "by": OFFICER_WANG, "at": AT},
    )
    assert client.post(f"{url}/dismissal", headers=supervisor, json={"reason": "专项整治所致"}).status_code == 200
    assert last_event(runtime, plan_id) == (
        "guidance.ReminderPlanDismissed.v1",
        {
            "plan_id": plan_id,
            "department_id": DEPARTMENT_ID,
            "reason": "专项整治所致",
            "by": {"name": "主任-1", "badge_no": None, "officer_id": None},
            "at": AT,
        },
    )
