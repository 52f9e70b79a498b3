"""Reminder plans end to end: intake's cases → projection → planning → forecast, decisions, task list."""

from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from tests.support.auth import AuthKeys
from tests.support.projections import assert_read_models_refold

from guidance_revisit.adapters.read_model import reminder_plans
from guidance_revisit.bootstrap import SPEC, create_app, reminder_settings
from guidance_revisit.domain.reminders import ReminderSettings
from guidance_revisit.entrypoints.worker import reminder_planning
from guidance_revisit.handlers import reminder_plans as reminders_handlers
from guidance_revisit.settings import RevisitSettings
from guidance_shared.envelope import Envelope
from guidance_shared.events import default_registry
from guidance_shared.events.examples import DEPARTMENT_ID, ENTERPRISE, OFFICER_WANG, example
from guidance_shared.handling import jsonable
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport

OTHER = "077493a6-c269-5ad9-9cc1-26c4417acc51"
FOOD = "食品安全"
ISSUED = "guidance.GuidanceIssued.v1"
REGISTRATION = "市场主体登记"
TODAY = date(2025, 5, 20)
NOW = datetime(2025, 5, 20, 1, 0, tzinfo=UTC)  # 09:00 in China


def synthetic_history() -> list[tuple[str, date]]:
    """2022–2024: food safety ~15 cases every July and ~2 in other months; registration ~3 every month."""
    rng = random.Random(11)
    cases: list[tuple[str, date]] = []
    for year in range(2022, 2025):
        for month in range(1, 13):
            food = 15 + (year - 2023) if month == 7 else rng.choice((1, 2, 3))
            cases += [(FOOD, date(year, month, rng.randint(1, 28))) for _ in range(food)]
            cases += [(REGISTRATION, date(year, month, 1 + i)) for i in range(2 + (year + month) % 3)]
    return cases


def opened(category: str, on: date, department_id: str = DEPARTMENT_ID) -> Envelope:
    case_id = str(uuid.uuid4())
    base = example("guidance.CaseOpened.v1")
    data = base | {
        "case_id": case_id,
        "department_id": department_id,
        "violation": base["violation"] | {"category": category, "occurred_on": on.isoformat()},
        "opened_at": f"{on.isoformat()}T09:00:00+08:00",
    }
    return Envelope(type="guidance.CaseOpened.v1", source="/guidance/intake", subject=case_id, data=data, sequence=1)


@pytest.fixture
def runtime(tmp_path: Path):
    transport = EmbeddedTransport(str(tmp_path / "log.sqlite"))
    transport.create_topics(["intake.events", "revisit.events", "revisit.dlq"], 3)
    runtime = Runtime(SPEC, Settings.from_env("revisit", {"GUIDANCE_VAR_DIR": str(tmp_path)}), transport=transport)
    records = [opened(category, on).to_record("intake.events") for category, on in synthetic_history()]
    transport.producer().publish(records)
    runtime.runner().drain()
    runtime.deps = replace(runtime.deps, now=lambda: NOW)
    yield runtime
    assert_read_models_refold(runtime, allow_empty=True)  # reminder plans and revisits, refolded
    runtime.close()


@pytest.fixture
def api(runtime: Runtime, auth_keys: AuthKeys):
    assert reminders_handlers.plan_reminders(runtime.deps, TODAY, ReminderSettings()) == 1
    client = create_app(runtime, testing=True, auth=auth_keys.settings()).test_client()
    return client, auth_keys


def headers(keys: AuthKeys, *roles: str, department: str = DEPARTMENT_ID) -> dict[str, str]:
    return keys.headers("supervisor-1", department, list(roles) or ["officer"])


def plans(runtime: Runtime) -> list[dict[str, Any]]:
    with runtime.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(reminder_plans))]


def forecast(client: Any, keys: AuthKeys, **query: str) -> list[dict[str, Any]]:
    response = client.get(
        "/v1/reminder-plans", query_string={"department_id": DEPARTMENT_ID, **query}, headers=headers(keys, "auditor")
    )
    assert response.status_code == 200, response.get_json()
    found: list[dict[str, Any]] = response.get_json()["plans"]
    return found


# -- detection from the projected history ------------------------------------------------------------
def test_the_projected_history_plans_a_reminder_before_july_once_and_none_for_the_flat_category(runtime) -> None:
    deps = runtime.deps
    assert reminders_handlers.plan_reminders(deps, TODAY, ReminderSettings()) == 1
    [plan] = plans(runtime)
    assert (plan["violation_category"], plan["period_from"], plan["period_to"], plan["notify_on"]) == (
        FOOD,
        date(2025, 7, 1),
        date(2025, 7, 31),
        date(2025, 6, 17),
    )
    # Tomorrow's run, another worker, a restart: nothing is planned twice.
    assert reminders_handlers.plan_reminders(deps, TODAY, ReminderSettings()) == 0
    assert reminders_handlers.plan_reminders(deps, date(2025, 5, 21), ReminderSettings()) == 0
    [stored] = deps.plans.store.load(plan["plan_id"])
    assert stored.type == "guidance.ReminderPlanned.v1" and stored.data["basis"]["years_recurring"] == 3


def test_the_worker_task_plans_at_start_with_settings_from_the_environment(runtime) -> None:
    # A worker process of the same service, started with these variables in its environment.
    env = {**runtime.settings.env, "GUIDANCE_REMINDER_LEAD_DAYS": "21", "GUIDANCE_REMINDER_INTERVAL_S": "3600"}
    started = Runtime(SPEC, Settings.from_env("revisit", env), transport=runtime.transport)
    started.deps = replace(started.deps, now=lambda: NOW)
    stop = threading.Event()
    worker = threading.Thread(target=reminder_planning, args=(started, stop))
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while not plans(runtime) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        worker.join(5)
        started.close()
    assert [p["notify_on"] for p in plans(runtime)] == [date(2025, 6, 10)]


def test_settings_come_from_the_environment() -> None:
    assert reminder_settings(RevisitSettings.from_env({})) == ReminderSettings()
    env = {
        "GUIDANCE_REMINDER_LOOKBACK_YEARS": "5",
        "GUIDANCE_REMINDER_K": "2",
        "GUIDANCE_REMINDER_MIN_CASES": "4.5",
        "GUIDANCE_REMINDER_MIN_YEARS": "3",
        "GUIDANCE_REMINDER_LEAD_DAYS": "7",
        "GUIDANCE_REMINDER_HORIZON_DAYS": "60",
    }
    assert reminder_settings(RevisitSettings.from_env(env)) == ReminderSettings(5, 2.0, 4.5, 3, 7, 60)


# -- the forecast, decisions and tasks -----------------------------------------------------------------
def test_the_forecast_shows_the_statistics(api) -> None:
    client, keys = api
    [plan] = forecast(client, keys)
    assert plan["status"] == "planned" and plan["peak_period"] == {"from": "2025-07-01", "to": "2025-07-31"}
    assert plan["notify_on"] == "2025-06-17" and "7月平均15.0件" in plan["basis"]["summary"]
    assert plan["basis"]["threshold"] > plan["basis"]["mean_per_month"]
    assert forecast(client, keys, status="planned") == [plan]
    assert forecast(client, keys, status="accepted") == []
    one = client.get(f"/v1/reminder-plans/{plan['plan_id']}", headers=headers(keys, "officer"))
    assert one.status_code == 200 and one.headers["ETag"] == '"1"'


def test_an_accepted_plan_becomes_a_task_with_a_draft_intake_accepts(api) -> None:
    client, keys = api
    [plan] = forecast(client, keys)
    tasks = client.get(
        "/v1/reminder-plans/tasks", query_string={"department_id": DEPARTMENT_ID}, headers=headers(keys, "officer")
    )
    assert tasks.status_code == 200 and tasks.get_json()["tasks"] == []  # not accepted yet

    accepted = client.post(
        f"/v1/reminder-plans/{plan['plan_id']}/acceptance",
        headers={**headers(keys, "supervisor"), "Idempotency-Key": "accept-1"},
        json={},
    )
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["status"] == "accepted" and accepted.get_json()["decided_by"] == "supervisor-1"
    again = client.post(
        f"/v1/reminder-plans/{plan['plan_id']}/acceptance",
        headers={**headers(keys, "supervisor"), "Idempotency-Key": "accept-1"},
        json={},
    )
    assert again.status_code == 200  # the same request replayed, not a second decision

    [task] = client.get(
        "/v1/reminder-plans/tasks", query_string={"department_id": DEPARTMENT_ID}, headers=headers(keys, "officer")
    ).get_json()["tasks"]
    draft = task["draft"]
    assert draft["content_type"] == "enforcement_reminder"
    assert draft["reminder"] == {"violation_category": FOOD, "period": {"from": "2025-07-01", "to": "2025-07-31"}}
    assert task["to_fill"] == ["officers", "counterpart", "legal_basis"]
    filled = draft | {
        "guidance_id": str(uuid.uuid4()),
        "doc_no": "某市监指〔2025〕第045号",
        "officers": [OFFICER_WANG],
        "counterpart": ENTERPRISE,
        "legal_basis": [{"instrument": "《中华人民共和国食品安全法》", "article": "第五十四条"}],
        "issued_at": "2025-06-17T10:00:00+08:00",
    }
    validated = default_registry().validate("guidance.GuidanceIssued.v1", filled)
    assert validated["reminder"] == draft["reminder"]


def test_tasks_appear_thirty_days_before_the_notice_date(api, runtime) -> None:
    client, keys = api
    [plan] = forecast(client, keys)
    client.post(f"/v1/reminder-plans/{plan['plan_id']}/acceptance", headers=headers(keys, "supervisor"), json={})
    runtime.deps = replace(runtime.deps, now=lambda: datetime(2025, 5, 1, 1, 0, tzinfo=UTC))  # 47 days before June 17
    query = {"department_id": DEPARTMENT_ID}
    assert client.get("/v1/reminder-plans/tasks", query_string=query, headers=headers(keys)).get_json()["tasks"] == []
    runtime.deps = replace(runtime.deps, now=lambda: datetime(2025, 8, 1, 1, 0, tzinfo=UTC))  # the peak is over
    assert client.get("/v1/reminder-plans/tasks", query_string=query, headers=headers(keys)).get_json()["tasks"] == []


def test_adjust_then_dismiss(api, runtime) -> None:
    client, keys = api
    [plan] = forecast(client, keys)
    url = f"/v1/reminder-plans/{plan['plan_id']}"
    body = {"peak_period": {"from": "2025-06-20", "to": "2025-07-31"}, "notify_on": "2025-06-06", "reason": "今年提前"}
    adjusted = client.post(f"{url}/adjustment", headers=headers(keys, "supervisor"), json=body)
    assert adjusted.status_code == 200, adjusted.get_json()
    view = adjusted.get_json()
    assert (view["status"], view["adjusted"], view["notify_on"], view["reason"]) == (
        "accepted",
        True,
        "2025-06-06",
        "今年提前",
    )
    assert view["peak_period"] == {"from": "2025-06-20", "to": "2025-07-31"} and adjusted.headers["ETag"] == '"2"'

    stale = client.post(
        f"{url}/dismissal", headers={**headers(keys, "supervisor"), "If-Match": '"1"'}, json={"reason": "x"}
    )
    assert stale.status_code == 412
    dismissed = client.post(
        f"{url}/dismissal",
        headers={**headers(keys, "supervisor"), "If-Match": '"2"'},
        json={"reason": "专项整治所致", "by": OFFICER_WANG},
    )
    assert dismissed.status_code == 200 and dismissed.get_json()["status"] == "dismissed"
    assert dismissed.get_json()["decided_by"] == OFFICER_WANG["name"]
    assert client.post(f"{url}/acceptance", headers=headers(keys, "supervisor"), json={}).status_code == 409
    # A dismissed plan is never planned again.
    assert reminders_handlers.plan_reminders(runtime.deps, TODAY, ReminderSettings()) == 0
    assert forecast(client, keys, status="dismissed")[0]["plan_id"] == plan["plan_id"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "adjustment",
            {"peak_period": {"from": "2025-07-01", "to": "2025-07-31"}, "notify_on": "2025-06-20"},
            "reason",
        ),
        (
            "adjustment",
            {"peak_period": {"from": "2025-07-01", "to": "2025-07-31"}, "notify_on": "2025-07-05", "reason": "x"},
            "notify_on",
        ),
        (
            "adjustment",
            {"peak_period": {"from": "2025-07-01", "to": "2025-07-31"}, "notify_on": "2025-05-01", "reason": "x"},
            "notify_on",
        ),
        (
            "adjustment",
            {"peak_period": {"from": "2025-07-01", "to": "2025-06-30"}, "notify_on": "2025-06-20", "reason": "x"},
            "peak_period.to",
        ),
        (
            "adjustment",
            {"peak_period": {"from": "2025-07-01", "to": "2025-07-31"}, "notify_on": "2025-06-17", "reason": "x"},
            "notify_on",
        ),  # nothing changed
        ("dismissal", {"reason": ""}, "reason"),
        ("acceptance", {"accepted_by": {"badge_no": "豫A0310021"}}, "accepted_by.name"),
    ],
)
def test_invalid_commands_are_problems_naming_the_field(api, path: str, body: dict[str, Any], field: str) -> None:
    client, keys = api
    [plan] = forecast(client, keys)
    response = client.post(
        f"/v1/reminder-plans/{plan['plan_id']}/{path}", headers=headers(keys, "supervisor"), json=body
    )
    assert response.status_code == 422 and response.content_type == "application/problem+json"
    assert field in {e["field"] for e in response.get_json()["errors"]}, response.get_json()


def test_roles_and_departments(api) -> None:
    client, keys = api
    [plan] = forecast(client, keys)
    url = f"/v1/reminder-plans/{plan['plan_id']}"
    assert client.get("/v1/reminder-plans", query_string={"department_id": DEPARTMENT_ID}).status_code == 401
    assert client.post(f"{url}/acceptance", headers=headers(keys, "officer"), json={}).status_code == 403
    assert client.get(url, headers=headers(keys, "auditor", department=OTHER)).status_code == 404
    other_list = client.get(
        "/v1/reminder-plans",
        query_string={"department_id": DEPARTMENT_ID},
        headers=headers(keys, "auditor", department=OTHER),
    )
    assert other_list.status_code == 404
    other_tasks = client.get(
        "/v1/reminder-plans/tasks",
        query_string={"department_id": DEPARTMENT_ID},
        headers=headers(keys, "officer", department=OTHER),
    )
    assert other_tasks.status_code == 404
    # Another department's plan does not exist for the caller, on a write as on a read (the shared rule).
    assert (
        client.post(f"{url}/acceptance", headers=headers(keys, "supervisor", department=OTHER), json={}).status_code
        == 404
    )
    assert client.get(f"/v1/reminder-plans/{uuid.uuid4()}", headers=headers(keys, "auditor")).status_code == 404
    bad = client.get(
        "/v1/reminder-plans", query_string={"department_id": DEPARTMENT_ID, "status": "open"}, headers=headers(keys)
    )
    assert bad.status_code == 422 and "status" in {e["field"] for e in bad.get_json()["errors"]}


def test_a_task_is_done_once_intake_issued_the_reminder(api, runtime) -> None:
    client, keys = api
    [plan] = forecast(client, keys)
    accepted = client.post(
        f"/v1/reminder-plans/{plan['plan_id']}/acceptance", headers=headers(keys, "supervisor"), json={}
    )
    assert accepted.status_code == 200, accepted.get_json()
    query = {"department_id": DEPARTMENT_ID}
    [task] = client.get("/v1/reminder-plans/tasks", query_string=query, headers=headers(keys)).get_json()["tasks"]
    assert task["reminders_issued"] == []

    # The officer issues the drafted reminder at intake; revisit reads it from intake.events.
    issued = task["draft"] | {
        "guidance_id": str(uuid.uuid4()),
        "department_id": DEPARTMENT_ID,
        "doc_no": "某市监提示〔2025〕第007号",
        "officers": [OFFICER_WANG],
        "counterpart": ENTERPRISE,
        "legal_basis": [{"instrument": "《中华人民共和国食品安全法》", "article": "第五十四条"}],
        "issued_at": "2025-06-17T10:00:00+08:00",
    }
    data = default_registry().validate("guidance.GuidanceIssued.v1", jsonable(example(ISSUED) | issued))
    envelope = Envelope(type=ISSUED, source="/guidance/intake", subject=data["guidance_id"], data=data, sequence=1)
    runtime.transport.producer().publish([envelope.to_record("intake.events")])
    runtime.runner().drain()

    assert client.get("/v1/reminder-plans/tasks", query_string=query, headers=headers(keys)).get_json()["tasks"] == []
    assert forecast(client, keys, status="accepted")[0]["reminders_issued"] == ["某市监提示〔2025〕第007号"]
