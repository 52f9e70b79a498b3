"""revisit's worklists, commands and calendar feeds over HTTP, behind bearer tokens."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar
from tests.support.auth import AuthKeys
from tests.support.projections import assert_read_models_refold
from tests.support.schema import migrated_runtime

from guidance_revisit.bootstrap import SPEC, create_app
from guidance_shared.envelope import Envelope
from guidance_shared.events.examples import DEPARTMENT_ID, OFFICER_WANG, example
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport

OTHER = "077493a6-c269-5ad9-9cc1-26c4417acc51"


@pytest.fixture
def api(tmp_path: Path, auth_keys: AuthKeys):
    transport = EmbeddedTransport(str(tmp_path / "log.sqlite"))
    transport.create_topics(["intake.events", "revisit.events", "revisit.dlq"], 3)
    runtime = migrated_runtime(
        SPEC, Settings.from_env("revisit", {"GUIDANCE_VAR_DIR": str(tmp_path)}), transport=transport
    )
    client = create_app(runtime, testing=True, auth=auth_keys.settings()).test_client()
    case_id = str(uuid.uuid4())
    for seq, (name, changes) in enumerate(
        [
            ("CaseOpened", {}),
            ("CaseDecided", {}),
            ("CaseClosed", {"major": True, "closed_at": "2025-03-10T15:00:00+08:00"}),
        ],
        start=1,
    ):
        data = example(f"guidance.{name}.v1") | {"case_id": case_id, **changes}
        envelope = Envelope(
            type=f"guidance.{name}.v1", source="/guidance/intake", subject=case_id, data=data, sequence=seq
        )
        transport.producer().publish([envelope.to_record("intake.events")])
    runtime.runner().drain()
    yield client, auth_keys
    assert_read_models_refold(runtime)  # whatever the test did to the revisits, refolded
    runtime.close()


def headers(keys: AuthKeys, *roles: str, department: str = DEPARTMENT_ID) -> dict[str, str]:
    return keys.headers("officer-1", department, list(roles) or ["officer"])


def worklist(client: Any, keys: AuthKeys, **query: str) -> list[dict[str, Any]]:
    response = client.get(
        "/v1/revisits", query_string={"department_id": DEPARTMENT_ID, **query}, headers=headers(keys, "auditor")
    )
    assert response.status_code == 200, response.get_json()
    rows: list[dict[str, Any]] = response.get_json()["revisits"]
    return rows


def test_the_worklist_shows_what_is_due_by_officer_and_date(api) -> None:
    client, keys = api
    due = worklist(client, keys, status="due")
    assert [r["due_on"] for r in due] == ["2025-04-09", "2025-06-08"]
    assert worklist(client, keys, status="due", officer_id=OFFICER_WANG["officer_id"]) == due
    assert len(worklist(client, keys, status="due", to="2025-05-01")) == 1
    assert worklist(client, keys, status="completed") == []


def test_the_worklist_pages_by_cursor_with_next_and_a_link_header(api) -> None:
    client, keys = api
    every = worklist(client, keys, status="due")
    query = {"department_id": DEPARTMENT_ID, "status": "due", "limit": "1"}
    first = client.get("/v1/revisits", query_string=query, headers=headers(keys, "auditor"))
    assert first.status_code == 200
    assert [r["revisit_id"] for r in first.get_json()["revisits"]] == [every[0]["revisit_id"]]
    following = first.get_json()["next"]
    assert following and f"cursor={following}" in first.headers["Link"] and 'rel="next"' in first.headers["Link"]
    second = client.get("/v1/revisits", query_string={**query, "cursor": following}, headers=headers(keys, "auditor"))
    assert [r["revisit_id"] for r in second.get_json()["revisits"]] == [every[1]["revisit_id"]]
    assert second.get_json()["next"] is None and "Link" not in second.headers
    refused = client.get(
        "/v1/revisits", query_string={**query, "cursor": "bm90IG91cnM"}, headers=headers(keys, "auditor")
    )
    assert refused.status_code == 422
    spec = client.get("/openapi.json").get_json()
    assert {"cursor", "limit"} <= {p["name"] for p in spec["paths"]["/v1/revisits"]["get"]["parameters"]}
    assert "next" in spec["components"]["schemas"]["RevisitList"]["properties"]


def test_complete_reschedule_and_cancel(api) -> None:
    client, keys = api
    first, second = worklist(client, keys, status="due")
    done = client.post(
        f"/v1/revisits/{first['revisit_id']}/completion",
        headers=headers(keys, "officer"),
        json={
            "completed_on": "2025-04-08",
            "officers": [OFFICER_WANG],
            "method": "visit",
            "findings": {"corrected": True, "conduct_ok": True, "rights_explained": True, "needs_guidance": False},
            "notes": "现场回访，整改到位。",
        },
    )
    assert done.status_code == 200 and done.get_json()["status"] == "completed"
    moved = client.post(
        f"/v1/revisits/{second['revisit_id']}/rescheduling",
        headers=headers(keys, "officer"),
        json={"due_on": "2025-06-20", "reason": "经营者外出"},
    )
    assert moved.status_code == 200 and moved.get_json()["due_on"] == "2025-06-20"
    stale = client.post(
        f"/v1/revisits/{second['revisit_id']}/cancellation",
        headers={**headers(keys, "supervisor"), "If-Match": '"1"'},
        json={"reason": "已注销"},
    )
    assert stale.status_code == 412
    cancelled = client.post(
        f"/v1/revisits/{second['revisit_id']}/cancellation",
        headers=headers(keys, "supervisor"),
        json={"reason": "经营者已注销"},
    )
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    again = client.post(
        f"/v1/revisits/{first['revisit_id']}/completion",
        headers=headers(keys, "officer"),
        json={
            "completed_on": "2025-04-08",
            "officers": [OFFICER_WANG],
            "method": "visit",
            "findings": {"conduct_ok": True, "rights_explained": True, "needs_guidance": False},
        },
    )
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "completion",
            {
                "completed_on": "2025-04-08",
                "officers": [],
                "method": "visit",
                "findings": {"conduct_ok": True, "rights_explained": True, "needs_guidance": False},
            },
            "officers",
        ),
        ("completion", {"completed_on": "x", "officers": [OFFICER_WANG], "method": "fax", "findings": {}}, "method"),
        ("rescheduling", {"due_on": "2025-06-20"}, "reason"),
        (
            "completion",
            {
                "completed_on": "2099-04-08",  # a revisit is recorded once done
                "officers": [OFFICER_WANG],
                "method": "visit",
                "findings": {"conduct_ok": True, "rights_explained": True, "needs_guidance": False},
            },
            "completed_on",
        ),
        (
            "completion",
            {
                "completed_on": "2025-04-08",
                "officers": [OFFICER_WANG],
                "method": "visit",
                "findings": {"conduct_ok": True, "rights_explained": True, "needs_guidance": False, "tidy": True},
            },
            "findings.tidy",
        ),
        ("rescheduling", {"due_on": "2025-06-20", "reason": "外出", "by": "王"}, "by"),
    ],
)
def test_invalid_commands_are_problems_naming_the_field(api, path: str, body: dict[str, Any], field: str) -> None:
    client, keys = api
    revisit = worklist(client, keys, status="due")[0]
    response = client.post(
        f"/v1/revisits/{revisit['revisit_id']}/{path}", headers=headers(keys, "officer", "supervisor"), json=body
    )
    assert response.status_code == 422 and response.content_type == "application/problem+json"
    assert field in {e["field"] for e in response.get_json()["errors"]}


def test_roles_and_departments(api) -> None:
    client, keys = api
    revisit = worklist(client, keys, status="due")[0]["revisit_id"]
    assert client.get(f"/v1/revisits/{revisit}").status_code == 401
    assert client.get(f"/v1/revisits/{revisit}", headers=headers(keys, "auditor", department=OTHER)).status_code == 404
    cancel = client.post(f"/v1/revisits/{revisit}/cancellation", headers=headers(keys, "officer"), json={"reason": "x"})
    assert cancel.status_code == 403
    listing = client.get("/v1/revisits", query_string={"department_id": OTHER}, headers=headers(keys, "auditor"))
    assert listing.status_code == 404


def test_calendar_feeds_for_a_department_and_an_officer(api) -> None:
    client, keys = api
    token = keys.token("officer-1", DEPARTMENT_ID, ["officer"])
    feed = client.get(f"/v1/calendars/departments/{DEPARTMENT_ID}.ics", query_string={"token": token})
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    events = Calendar.from_ical(feed.data).walk("VEVENT")
    assert sorted(str(e.get("dtstart").dt) for e in events) == ["2025-04-09", "2025-06-08"]
    assert all("回访" in str(e.get("summary")) for e in events)
    mine = client.get(f"/v1/calendars/officers/{OFFICER_WANG['officer_id']}.ics", headers=headers(keys, "officer"))
    assert len(Calendar.from_ical(mine.data).walk("VEVENT")) == 2
    assert client.get(f"/v1/calendars/departments/{DEPARTMENT_ID}.ics").status_code == 401
