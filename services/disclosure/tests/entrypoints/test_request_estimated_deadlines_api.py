"""An estimated answer due date over HTTP: flagged on the request and in the worklist, and counted again (with
DisclosureRequestDeadlineRecomputed) when the worker restarts with 2027's arrangement in the override file.

chinesecalendar 1.11 does not describe 2027. Two requests: one received Mon 28 Dec 2026, due Tue 26 Jan 2027
on the estimate, which the arrangement confirms (the date stays, the flag goes); one received Mon 25 Jan
2027, due Fri 26 Feb on the estimate, which the arrangement moves to Mon 1 Mar (11 February off as well).
"""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from tests.support.auth import AuthKeys
from tests.support.calendars import CHINA, disclosure_in_2027, with_arrangement_2027
from tests.support.projections import assert_read_models_refold

from guidance_disclosure.bootstrap import create_app
from guidance_disclosure.entrypoints import worker
from guidance_shared.catalogue import DISCLOSURE_REQUEST_DEADLINE_RECOMPUTED
from guidance_shared.events.examples import DEPARTMENT_ID, PERSON
from guidance_shared.runtime import Runtime


@pytest.fixture
def var(tmp_path: Path) -> Path:
    return with_arrangement_2027(tmp_path)


def start(var: Path, *, arrangement: bool) -> Runtime[Any]:
    """The service as a process starts it, with or without the override file; its clock on 26 Jan 2027."""
    runtime = disclosure_in_2027(var, arrangement=arrangement)
    runtime.deps.requests.now = lambda: datetime(2027, 1, 26, 9, 0, tzinfo=CHINA)
    return runtime


def headers(keys: AuthKeys, role: str) -> dict[str, str]:
    return keys.headers("officer-1", DEPARTMENT_ID, [role])


def register(client: Any, keys: AuthKeys, received_on: str) -> dict[str, Any]:
    body = {
        "department_id": DEPARTMENT_ID,
        "applicant": PERSON,
        "description": "申请公开2026年度食品安全领域行政指导工作台账。",
        "channel": "online",
        "received_on": received_on,
    }
    response = client.post("/v1/requests", headers=headers(keys, "officer"), json=body)
    assert response.status_code == 201, response.get_json()
    view: dict[str, Any] = response.get_json()
    return view


def rows(client: Any, keys: AuthKeys) -> dict[str, tuple[str, bool]]:
    response = client.get(
        "/v1/requests",
        query_string={"department_id": DEPARTMENT_ID, "status": "open"},
        headers=headers(keys, "auditor"),
    )
    assert response.status_code == 200, response.get_json()
    return {r["request_id"]: (r["answer_due_on"], r["deadline_estimated"]) for r in response.get_json()["requests"]}


def test_the_flag_shows_and_the_due_dates_are_counted_again_when_the_arrangement_arrives(
    var: Path, auth_keys: AuthKeys
) -> None:
    # Given two requests registered while 2027 had no published arrangement
    runtime = start(var, arrangement=False)
    try:
        client = create_app(runtime, testing=True, auth=auth_keys.settings()).test_client()
        confirmed, moved = register(client, auth_keys, "2026-12-28"), register(client, auth_keys, "2027-01-25")
        assert (confirmed["answer_due_on"], confirmed["deadline_estimated"]) == ("2027-01-26", True)
        assert (moved["answer_due_on"], moved["deadline_estimated"]) == ("2027-02-26", True)
        ids = confirmed["request_id"], moved["request_id"]
        assert rows(client, auth_keys) == {ids[0]: ("2027-01-26", True), ids[1]: ("2027-02-26", True)}
        worker.deadline_recount(runtime, threading.Event())  # the same calendar: nothing to count again
        assert rows(client, auth_keys) == {ids[0]: ("2027-01-26", True), ids[1]: ("2027-02-26", True)}
    finally:
        runtime.close()

    # When the worker starts again with the override file that describes 2027 (twice: a second worker)
    runtime = start(var, arrangement=True)
    try:
        worker.deadline_recount(runtime, threading.Event())
        worker.deadline_recount(runtime, threading.Event())

        # Then both are counted on the arrangement: one confirmed, one a working day later
        client = create_app(runtime, testing=True, auth=auth_keys.settings()).test_client()
        assert rows(client, auth_keys) == {ids[0]: ("2027-01-26", False), ids[1]: ("2027-03-01", False)}
        view = client.get(f"/v1/requests/{ids[1]}", headers=headers(auth_keys, "officer")).get_json()
        assert (view["answer_due_on"], view["deadline_estimated"]) == ("2027-03-01", False)
        # and each change is in the ledger once, with both dates and the calendar it was counted on
        changes = {
            rid: [e.data for e in runtime.store.load(rid) if e.type == DISCLOSURE_REQUEST_DEADLINE_RECOMPUTED]
            for rid in ids
        }
        version = runtime.deps.requests.calendar.version
        assert "overrides 2027 sha256:" in version
        assert [
            (c["previous_answer_due_on"], c["answer_due_on"], c["previously_estimated"], c["deadline_estimated"])
            for rid in ids
            for c in changes[rid]
        ] == [("2027-01-26", "2027-01-26", True, False), ("2027-02-26", "2027-03-01", True, False)]
        assert all(c["calendar_version"] == version for rid in ids for c in changes[rid])
        assert_read_models_refold(runtime)
    finally:
        runtime.close()
