"""Requests for disclosure over HTTP, behind bearer tokens: the officer's worklist and commands."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tests.support.auth import AuthKeys

from guidance_disclosure.handlers import requests as requests_handlers
from guidance_shared.dates import china_today
from guidance_shared.events.examples import DEPARTMENT_ID, PERSON

OTHER = "077493a6-c269-5ad9-9cc1-26c4417acc51"
CHINA = ZoneInfo("Asia/Shanghai")
OFFICER = {"name": "陈国强", "badge_no": None, "officer_id": None}


def headers(keys: AuthKeys, *roles: str, department: str = DEPARTMENT_ID) -> dict[str, str]:
    return keys.headers("officer-1", department, list(roles) or ["officer"])


def register(client: Any, keys: AuthKeys, received_on: str = "2026-02-12") -> dict[str, Any]:
    body = {
        "department_id": DEPARTMENT_ID,
        "applicant": PERSON,
        "description": "申请公开2025年度食品安全领域行政指导工作台账。",
        "channel": "online",
        "received_on": received_on,
    }
    response = client.post("/v1/requests", headers=headers(keys, "officer"), json=body)
    assert response.status_code == 201, response.get_json()
    view: dict[str, Any] = response.get_json()
    return view


def post(client: Any, keys: AuthKeys, request_id: str, path: str, body: dict[str, Any], *roles: str) -> Any:
    return client.post(f"/v1/requests/{request_id}/{path}", headers=headers(keys, *(roles or ("officer",))), json=body)


def listing(client: Any, keys: AuthKeys, status: str) -> list[str]:
    response = client.get(
        "/v1/requests",
        query_string={"department_id": DEPARTMENT_ID, "status": status},
        headers=headers(keys, "auditor"),
    )
    assert response.status_code == 200, response.get_json()
    return [row["request_id"] for row in response.get_json()["requests"]]


def test_a_request_through_supplement_consultation_extension_and_answer(api) -> None:
    client, keys, runtime = api
    # The day of the answer: every step before it has happened (a step is never dated after today).
    runtime.deps.requests.now = lambda: datetime(2026, 3, 20, 10, 0, tzinfo=CHINA)
    view = register(client, keys)
    rid = view["request_id"]
    assert (view["answer_due_on"], view["supplement_notice_due_on"]) == ("2026-03-18", "2026-02-28")

    notice = {"items": "请补充文号。", "notice_on": "2026-02-24", "notified_by": OFFICER}
    assert post(client, keys, rid, "supplement-notice", notice).get_json()["status"] == "awaiting_supplement"
    assert listing(client, keys, "awaiting_supplement") == [rid]
    again = post(client, keys, rid, "supplement-received", {"supplemented_on": "2026-02-26"})
    assert again.get_json()["answer_due_on"] == "2026-03-25"  # 20 working days from Feb 26

    second = post(client, keys, rid, "supplement-notice", notice)
    assert second.status_code == 409 and second.content_type == "application/problem+json"

    started = post(client, keys, rid, "consultation-start", {"reason": "涉及商业秘密。", "started_on": "2026-03-02"})
    assert started.get_json()["status"] == "in_consultation"
    ended = post(client, keys, rid, "consultation-end", {"ended_on": "2026-03-04"})
    assert ended.get_json()["answer_due_on"] == "2026-03-27"  # Mar 3 and Mar 4 not counted

    extension = {"extension_working_days": 20, "approved_by": OFFICER, "reason": "需检索多个年度台账。"}
    assert post(client, keys, rid, "extension", extension).status_code == 403  # an officer cannot approve
    extended = post(client, keys, rid, "extension", extension, "supervisor")
    assert extended.status_code == 200 and extended.get_json()["answer_due_on"] == "2026-04-27"

    answer = {"answer": "disclosed", "answered_on": "2026-03-20", "reply_doc_no": "某市监依复〔2026〕1号"}
    answered = post(client, keys, rid, "answer", answer)
    assert answered.status_code == 200 and answered.get_json()["status"] == "answered"
    assert listing(client, keys, "answered") == [rid] and listing(client, keys, "pending") == []


def test_overdue_requests_are_flagged_once(api) -> None:
    client, keys, runtime = api
    late = register(client, keys, "2026-01-05")["request_id"]
    register(client, keys, "2026-02-26")
    requests = runtime.deps.requests
    assert requests_handlers.flag_overdue(requests, runtime.engine, date(2026, 3, 2)) == 1
    assert requests_handlers.flag_overdue(requests, runtime.engine, date(2026, 3, 3)) == 0
    assert listing(client, keys, "overdue") == [late]
    view = client.get(f"/v1/requests/{late}", headers=headers(keys, "auditor")).get_json()
    assert view["overdue"] is True and view["version"] == 2


def overdue_gauges(client: Any, kind: str) -> tuple[str, str]:
    """The two lines of /metrics for ``kind``: past due and open, and not yet flagged."""
    lines = client.get("/metrics").get_data(as_text=True).splitlines()
    return (
        next(line for line in lines if line.startswith(f'guidance_overdue{{kind="{kind}"}}')),
        next(line for line in lines if line.startswith(f'guidance_overdue_unflagged{{kind="{kind}"}}')),
    )


def test_metrics_count_overdue_requests_until_flagged_and_answered(api) -> None:
    client, keys, runtime = api
    runtime.deps.requests.now = lambda: datetime.now(CHINA)
    assert overdue_gauges(client, "disclosure_request") == (
        'guidance_overdue{kind="disclosure_request"} 0.0',
        'guidance_overdue_unflagged{kind="disclosure_request"} 0.0',
    )
    late = register(client, keys, "2026-01-05")["request_id"]  # due in February 2026: past due from then on
    register(client, keys, china_today().isoformat())  # due weeks from today
    assert overdue_gauges(client, "disclosure_request") == (
        'guidance_overdue{kind="disclosure_request"} 1.0',
        'guidance_overdue_unflagged{kind="disclosure_request"} 1.0',
    )
    assert requests_handlers.flag_overdue(runtime.deps.requests, runtime.engine, china_today()) == 1
    assert overdue_gauges(client, "disclosure_request") == (
        'guidance_overdue{kind="disclosure_request"} 1.0',
        'guidance_overdue_unflagged{kind="disclosure_request"} 0.0',
    )
    answer = {"answer": "disclosed", "answered_on": china_today().isoformat(), "reply_doc_no": "某市监依复〔2026〕9号"}
    assert post(client, keys, late, "answer", answer).status_code == 200
    assert overdue_gauges(client, "disclosure_request")[0] == 'guidance_overdue{kind="disclosure_request"} 0.0'


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("answer", {"answer": "maybe", "answered_on": "2026-03-01"}, "answer"),
        ("answer", {"answer": "withheld", "answered_on": "2026-03-01"}, "exemption"),
        ("extension", {"extension_working_days": 21, "approved_by": OFFICER, "reason": "x"}, "extension_working_days"),
        ("supplement-notice", {"items": "x", "notified_by": OFFICER}, "notice_on"),
        ("consultation-start", {"started_on": "2026-03-02"}, "reason"),
    ],
)
def test_invalid_commands_are_problems_naming_the_field(api, path: str, body: dict[str, Any], field: str) -> None:
    client, keys, _ = api
    rid = register(client, keys)["request_id"]
    response = post(client, keys, rid, path, body, "officer", "supervisor")
    assert response.status_code == 422 and response.content_type == "application/problem+json"
    assert field in {e["field"] for e in response.get_json()["errors"]}


def test_registering_needs_the_received_date_and_a_valid_applicant(api) -> None:
    client, keys, _ = api
    body = {"department_id": DEPARTMENT_ID, "applicant": {"kind": "person"}, "description": "x", "channel": "online"}
    response = client.post("/v1/requests", headers=headers(keys, "officer"), json=body)
    assert response.status_code == 422 and response.content_type == "application/problem+json"
    fields = {e["field"] for e in response.get_json()["errors"]}
    assert "received_on" in fields and any(f.startswith("applicant") for f in fields)


def test_roles_and_departments(api) -> None:
    client, keys, _ = api
    rid = register(client, keys)["request_id"]
    assert client.get(f"/v1/requests/{rid}").status_code == 401
    assert client.post("/v1/requests", json={}).status_code == 401
    assert client.get(f"/v1/requests/{rid}", headers=headers(keys, "auditor", department=OTHER)).status_code == 404
    unknown = client.get("/v1/requests/7d0e5c1a-0000-4000-8000-000000000000", headers=headers(keys, "auditor"))
    assert unknown.status_code == 404 and unknown.content_type == "application/problem+json"
    elsewhere = post(client, keys, rid, "consultation-end", {"ended_on": "2026-03-02"}, "officer")
    assert elsewhere.status_code == 409
    foreign = client.post(
        f"/v1/requests/{rid}/answer",
        headers=headers(keys, "officer", department=OTHER),
        json={"answer": "disclosed", "answered_on": "2026-03-01"},
    )
    assert foreign.status_code in (403, 404)
    as_auditor = client.post("/v1/requests", headers=headers(keys, "auditor"), json={})
    assert as_auditor.status_code == 403
    other_list = client.get("/v1/requests", query_string={"department_id": OTHER}, headers=headers(keys, "auditor"))
    assert other_list.status_code == 404


def test_the_applicant_never_reaches_the_logs(api, capsys: pytest.CaptureFixture[str]) -> None:
    client, keys, _ = api
    register(client, keys)
    captured = capsys.readouterr()
    assert "http_request" in captured.err + captured.out  # the access log is captured here, so the check bites
    assert PERSON["name"] not in captured.out + captured.err
    assert str(PERSON.get("id_no")) not in captured.out + captured.err


def test_openapi_lists_the_request_endpoints(api) -> None:
    client, _, _ = api
    paths = client.get("/openapi.json").get_json()["paths"]
    for suffix in (
        "supplement-notice",
        "supplement-received",
        "consultation-start",
        "consultation-end",
        "extension",
        "answer",
    ):
        assert f"/v1/requests/{{request_id}}/{suffix}" in paths
    assert {"get", "post"} <= set(paths["/v1/requests"])


def test_a_request_whose_answer_falls_in_a_year_without_a_holiday_arrangement_is_registered(api) -> None:
    client, keys, runtime = api
    runtime.deps.requests.now = lambda: datetime(2026, 12, 15, 10, 0, tzinfo=CHINA)  # received today, never ahead
    view = register(client, keys, received_on="2026-12-15")  # 20 working days reach into 2027
    # Dec 16–31 (12), Jan 4–8, 11–13 (20): estimated, 元旦 (Fri 1 Jan, a statutory holiday) not counted
    assert view["answer_due_on"] == "2027-01-13"


def test_the_worklist_pages_by_cursor_and_the_openapi_shows_how(api) -> None:
    client, keys, _ = api
    registered = {register(client, keys, received_on=f"2026-02-{day:02d}")["request_id"] for day in (10, 11, 12)}
    query = {"department_id": DEPARTMENT_ID, "status": "pending", "limit": "2"}
    first = client.get("/v1/requests", query_string=query, headers=headers(keys, "officer"))
    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert len(body["requests"]) == 2 and body["next"]
    assert f"cursor={body['next']}" in first.headers["Link"] and 'rel="next"' in first.headers["Link"]
    second = client.get(
        "/v1/requests", query_string={**query, "cursor": body["next"]}, headers=headers(keys, "officer")
    )
    assert second.get_json()["next"] is None and "Link" not in second.headers
    walked = [row["request_id"] for row in body["requests"] + second.get_json()["requests"]]
    assert sorted(walked) == sorted(registered) and len(set(walked)) == 3
    bad = client.get("/v1/requests", query_string={**query, "cursor": "x"}, headers=headers(keys, "officer"))
    assert bad.status_code == 422
    spec = client.get("/openapi.json").get_json()
    for path in ("/v1/requests", "/v1/items"):
        assert {"cursor", "limit"} <= {p["name"] for p in spec["paths"][path]["get"]["parameters"]}, path
    for schema in ("RequestList", "ItemList"):
        assert "next" in spec["components"]["schemas"][schema]["properties"], schema


def test_a_worklist_page_naming_persons_is_one_entry_of_the_access_log(api) -> None:
    from guidance_shared import access_log

    client, keys, runtime = api
    register(client, keys)
    register(client, keys)
    query = {"department_id": DEPARTMENT_ID, "status": "pending"}
    page = client.get("/v1/requests", query_string=query, headers=headers(keys, "auditor"))
    assert page.status_code == 200 and len(page.get_json()["requests"]) == 2
    with runtime.engine.connect() as conn:
        [entry] = access_log.entries(conn)
    logged = (entry.actor, entry.purpose, entry.count, entry.subject_ref)
    assert logged == ("officer-1", "getRequestCollection", 2, None)


def _problem(response: Any, field: str) -> dict[str, Any]:
    body: dict[str, Any] = response.get_json()
    assert response.status_code == 422 and response.content_type == "application/problem+json", body
    (error,) = [e for e in body["errors"] if e["field"] == field]
    assert error["message_en"] and error["message_zh"]
    return error


def test_a_request_received_on_a_day_still_to_come_is_refused(api) -> None:
    client, keys, _ = api
    body = {
        "department_id": DEPARTMENT_ID,
        "applicant": PERSON,
        "description": "申请公开台账。",
        "channel": "online",
        "received_on": "2026-03-03",  # the day after the tests' clock
    }
    error = _problem(client.post("/v1/requests", headers=headers(keys), json=body), "received_on")
    assert "later than today" in error["message_en"] and "北京时间" in error["message_zh"]


@pytest.mark.parametrize(
    ("path", "body", "roles", "field"),
    [
        ("answer", {"answer": "disclosed", "answered_on": "2026-03-20"}, ("officer",), "answered_on"),
        ("supplement-notice", {"items": "补充。", "notice_on": "2026-03-24", "notified_by": OFFICER}, (), "notice_on"),
        ("consultation-start", {"reason": "征求意见。", "started_on": "2026-03-05"}, (), "started_on"),
    ],
)
def test_a_step_dated_in_the_future_is_refused(api, path: str, body: dict[str, Any], roles: Any, field: str) -> None:
    client, keys, _ = api
    rid = register(client, keys)["request_id"]
    _problem(post(client, keys, rid, path, body, *roles), field)


def test_unknown_fields_are_refused_at_any_depth_naming_their_path(api) -> None:
    client, keys, _ = api
    body = {
        "department_id": DEPARTMENT_ID,
        "applicant": {**PERSON, "phone_no": "13800000000"},
        "description": "申请公开台账。",
        "channel": "online",
        "received_on": "2026-02-12",
        "urgent": True,
    }
    response = client.post("/v1/requests", headers=headers(keys), json=body)
    assert _problem(response, "applicant.phone_no")["message_zh"] and _problem(response, "urgent")
    rid = register(client, keys)["request_id"]
    officer = {**OFFICER, "rank": "科员"}
    notice = {"items": "补充。", "notice_on": "2026-02-24", "notified_by": officer}
    _problem(post(client, keys, rid, "supplement-notice", notice), "notified_by.rank")
