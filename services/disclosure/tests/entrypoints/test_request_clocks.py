"""Requests for disclosure keep their clocks honestly over HTTP: a late answer is stored as late with the
working days late, and an extension counts from the day it was approved, not the day it is recorded.

Today is Mon 2026-03-02 (China). A request received Mon 2026-01-05 is due Mon 2026-02-02 (20 working
days); 20 more working days from then, over Spring Festival 2026 (Feb 15–23 off, Sat Feb 14 and Sat
Feb 28 worked), end on Fri 2026-03-06.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from tests.support.auth import AuthKeys

from guidance_disclosure.handlers import requests as requests_handlers
from guidance_shared.events.examples import DEPARTMENT_ID, PERSON

CHINA = ZoneInfo("Asia/Shanghai")
SUPERVISOR = {"name": "陈国强", "badge_no": None, "officer_id": None}


def call(client: Any, keys: AuthKeys, path: str, body: dict[str, Any] | None = None, role: str = "officer") -> Any:
    headers = keys.headers("officer-1", DEPARTMENT_ID, [role])
    if body is None:
        return client.get(path, headers=headers)
    return client.post(path, headers=headers, json=body)


def received_on_january_5(client: Any, keys: AuthKeys) -> str:
    body = {
        "department_id": DEPARTMENT_ID,
        "applicant": PERSON,
        "description": "申请公开2025年度食品安全领域行政指导工作台账。",
        "channel": "online",
        "received_on": "2026-01-05",
    }
    response = call(client, keys, "/v1/requests", body)
    assert response.status_code == 201 and response.get_json()["answer_due_on"] == "2026-02-02"
    request_id: str = response.get_json()["request_id"]
    return request_id


def row(client: Any, keys: AuthKeys, request_id: str, status: str) -> dict[str, Any]:
    query = f"/v1/requests?department_id={DEPARTMENT_ID}&status={status}"
    rows = call(client, keys, query, role="auditor").get_json()["requests"]
    return next(r for r in rows if r["request_id"] == request_id)


def extension(approved_on: str) -> dict[str, Any]:
    return {
        "extension_working_days": 20,
        "approved_by": SUPERVISOR,
        "reason": "需检索多个年度台账。",
        "approved_on": approved_on,
    }


def test_an_answer_after_the_deadline_is_stored_late_with_the_working_days_late(api) -> None:
    """Given a request due Mon 02-02 that nobody flagged overdue, when it is answered Thu 02-05, then the
    request, its answer event and the worklist row all say it was late, by 3 working days."""
    client, keys, runtime = api
    rid = received_on_january_5(client, keys)
    answer = {"answer": "disclosed", "answered_on": "2026-02-05", "reply_doc_no": "某市监依复〔2026〕2号"}
    answered = call(client, keys, f"/v1/requests/{rid}/answer", answer).get_json()
    assert (answered["status"], answered["overdue"], answered["late"], answered["working_days_late"]) == (
        "answered",
        True,
        True,
        3,
    )
    assert answered["answer"]["answer_due_on"] == "2026-02-02"
    assert row(client, keys, rid, "answered")["overdue"] is True
    event = runtime.deps.requests.repository.store.load(rid)[-1]
    assert (event.data["late"], event.data["working_days_late"], event.data["answer_due_on"]) == (
        True,
        3,
        "2026-02-02",
    )


def test_an_answer_on_the_due_date_is_on_time(api) -> None:
    client, keys, _ = api
    rid = received_on_january_5(client, keys)
    answer = {"answer": "disclosed", "answered_on": "2026-02-02"}
    answered = call(client, keys, f"/v1/requests/{rid}/answer", answer).get_json()
    assert (answered["overdue"], answered["late"], answered["working_days_late"]) == (False, False, 0)
    assert row(client, keys, rid, "answered")["overdue"] is False


def test_an_extension_approved_in_time_but_recorded_late_is_accepted_with_its_approval_date(api) -> None:
    """Given the request was flagged overdue on 03-02, when the supervisor records an extension approved on
    the last day (02-02), then it stands: due 03-06, no longer overdue, the approval date kept."""
    client, keys, runtime = api
    rid = received_on_january_5(client, keys)
    assert requests_handlers.flag_overdue(runtime.deps.requests, runtime.engine, date(2026, 3, 2)) == 1
    assert row(client, keys, rid, "overdue")["overdue"] is True
    response = call(client, keys, f"/v1/requests/{rid}/extension", extension("2026-02-02"), role="supervisor")
    assert response.status_code == 200, response.get_json()
    view = response.get_json()
    assert (view["answer_due_on"], view["extension_working_days"], view["overdue"]) == ("2026-03-06", 20, False)
    assert row(client, keys, rid, "open")["overdue"] is False
    event = runtime.deps.requests.repository.store.load(rid)[-1]
    assert event.data["approved_on"] == "2026-02-02"


def test_an_extension_approved_after_the_deadline_is_refused_naming_the_approval_date(api) -> None:
    client, keys, _ = api
    rid = received_on_january_5(client, keys)
    response = call(client, keys, f"/v1/requests/{rid}/extension", extension("2026-02-03"), role="supervisor")
    assert response.status_code == 409 and response.content_type == "application/problem+json"
    problem = response.get_json()
    [error] = problem["errors"]
    assert error["field"] == "approved_on"
    assert "2026-02-02" in error["message_en"] and "答复期限" in error["message_zh"]
    assert problem["title_zh"] and "答复期限" in problem["detail_zh"]
    assert call(client, keys, f"/v1/requests/{rid}").get_json()["extension_working_days"] == 0
