"""An estimated due date over HTTP: flagged in the worklist, the revisit and the officer's calendar feed, and
counted again (with RevisitDeadlineRecomputed) when the worker restarts with 2027's arrangement.

A major case closed on Wed 30 Dec 2026 under a policy of 30 working days: chinesecalendar 1.11 does not
describe 2027, so the due date is the estimate, Wed 17 Feb 2027. The arrangement then arrives in the
override file with 11 February off as well, and the due date becomes Thu 18 Feb.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar
from tests.support.auth import AuthKeys
from tests.support.projections import assert_read_models_refold
from tests.support.schema import migrated_runtime

from guidance_revisit.bootstrap import SPEC, create_app
from guidance_revisit.entrypoints import worker
from guidance_shared.catalogue import REVISIT_DEADLINE_RECOMPUTED
from guidance_shared.envelope import Envelope
from guidance_shared.events.examples import DEPARTMENT_ID, example
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport

POLICY = "default:\n  major_case: {offsets: [30], unit: working_days}\n"
ARRANGEMENT_2027 = """\
holidays: [2027-01-01, 2027-02-05, 2027-02-08, 2027-02-09, 2027-02-10, 2027-02-11]
workdays: []
years: [2027]
"""


@pytest.fixture
def var(tmp_path: Path) -> Path:
    (tmp_path / "policy.yaml").write_text(POLICY, encoding="utf-8")
    (tmp_path / "calendar-2027.yaml").write_text(ARRANGEMENT_2027, encoding="utf-8")
    return tmp_path


def env(var: Path, *, arrangement: bool) -> dict[str, str]:
    """The service's environment: with or without the override file that describes 2027."""
    values = {"GUIDANCE_VAR_DIR": str(var), "GUIDANCE_REVISIT_POLICY": str(var / "policy.yaml")}
    if arrangement:
        values["GUIDANCE_CALENDAR_OVERRIDES"] = str(var / "calendar-2027.yaml")
    return values


def start(var: Path, *, arrangement: bool) -> tuple[Runtime[Any], EmbeddedTransport]:
    """The service as a process starts it."""
    transport = EmbeddedTransport(str(var / "log.sqlite"))
    transport.create_topics(["intake.events", "revisit.events", "revisit.dlq"], 3)
    settings = Settings.from_env("revisit", env(var, arrangement=arrangement))
    return migrated_runtime(SPEC, settings, transport=transport), transport


def close_major_case(transport: EmbeddedTransport) -> None:
    case_id = str(uuid.uuid4())
    steps = [
        ("CaseOpened", {}),
        ("CaseDecided", {}),
        ("CaseClosed", {"major": True, "closed_at": "2026-12-30T16:00:00+08:00"}),
    ]
    for seq, (name, changes) in enumerate(steps, start=1):
        data = example(f"guidance.{name}.v1") | {"case_id": case_id, **changes}
        envelope = Envelope(
            type=f"guidance.{name}.v1", source="/guidance/intake", subject=case_id, data=data, sequence=seq
        )
        transport.producer().publish([envelope.to_record("intake.events")])


def open_revisits(client: Any, keys: AuthKeys) -> list[dict[str, Any]]:
    response = client.get(
        "/v1/revisits",
        query_string={"department_id": DEPARTMENT_ID},
        headers=keys.headers("auditor-1", DEPARTMENT_ID, ["auditor"]),
    )
    assert response.status_code == 200, response.get_json()
    rows: list[dict[str, Any]] = response.get_json()["revisits"]
    return rows


def test_an_estimated_due_date_is_flagged_and_counted_again_when_the_arrangement_arrives(
    var: Path, auth_keys: AuthKeys
) -> None:
    # Given a revisit scheduled while 2027 had no published arrangement
    runtime, transport = start(var, arrangement=False)
    try:
        close_major_case(transport)
        runtime.runner().drain()
        client = create_app(runtime, testing=True, auth=auth_keys.settings()).test_client()
        [row] = open_revisits(client, auth_keys)
        assert (row["due_on"], row["deadline_estimated"]) == ("2027-02-17", True)
        one = client.get(
            f"/v1/revisits/{row['revisit_id']}", headers=auth_keys.headers("o", DEPARTMENT_ID, ["officer"])
        )
        assert one.get_json()["deadline_estimated"] is True
        token = auth_keys.token("officer-1", DEPARTMENT_ID, ["officer"])
        feed = client.get(f"/v1/calendars/departments/{DEPARTMENT_ID}.ics", query_string={"token": token})
        [entry] = Calendar.from_ical(feed.data).walk("VEVENT")
        assert str(entry.get("summary")).startswith("【预计】回访") and str(entry.get("status")) == "TENTATIVE"
        # A restart on the same calendar counts the same estimate: nothing to record.
        worker.deadline_recount(runtime, threading.Event())
        assert open_revisits(client, auth_keys) == [row]
    finally:
        runtime.close()

    # When the operator installs the override file that describes 2027 and runs the recount (the worker
    # does the same when it starts)
    recount = subprocess.run(
        [sys.executable, "-m", "guidance_revisit", "calendar-recompute"],
        env={**os.environ, **env(var, arrangement=True), "GUIDANCE_TRANSPORT": "embedded"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert recount.returncode == 0, recount.stderr
    reported = json.loads(recount.stdout)
    assert reported["recomputed"] == 1 and "overrides 2027 sha256:" in reported["calendar"]
    runtime, _ = start(var, arrangement=True)
    try:
        worker.deadline_recount(runtime, threading.Event())  # a worker started after it: nothing left to count

        # Then the revisit is due on the arranged date, no longer an estimate, and the ledger says why
        client = create_app(runtime, testing=True, auth=auth_keys.settings()).test_client()
        [after] = open_revisits(client, auth_keys)
        assert (after["due_on"], after["deadline_estimated"]) == ("2027-02-18", False)
        events = runtime.store.load(row["revisit_id"])
        recomputed = [e.data for e in events if e.type == REVISIT_DEADLINE_RECOMPUTED]
        assert recomputed == [
            {
                "revisit_id": row["revisit_id"],
                "department_id": DEPARTMENT_ID,
                "previous_due_on": "2027-02-17",
                "due_on": "2027-02-18",
                "previously_estimated": True,
                "deadline_estimated": False,
                "calendar_version": runtime.deps.calendar.version,
                "recomputed_at": recomputed[0]["recomputed_at"],
            }
        ]
        assert "overrides 2027 sha256:" in recomputed[0]["calendar_version"]
        feed = client.get(
            f"/v1/calendars/departments/{DEPARTMENT_ID}.ics",
            query_string={"token": auth_keys.token("officer-1", DEPARTMENT_ID, ["officer"])},
        )
        [entry] = Calendar.from_ical(feed.data).walk("VEVENT")
        assert str(entry.get("dtstart").dt) == "2027-02-18" and str(entry.get("status")) == "CONFIRMED"
        assert_read_models_refold(runtime)
    finally:
        runtime.close()
