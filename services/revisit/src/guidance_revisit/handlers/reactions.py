"""What revisit does about intake's events, beyond keeping its history: schedule or cancel follow-ups.

Each reaction runs in the consumer's projection transaction, after the history took the event, so
the history row, the scheduled revisits and the consumer's offsets commit together: each intake
event schedules its revisits exactly once (the revisit ids derive from the event's id).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from sqlalchemy import Connection

from guidance_revisit.adapters import projection
from guidance_revisit.domain.commands import Officer
from guidance_revisit.domain.policy import plan_case_closed, plan_correction_check
from guidance_revisit.handlers import RevisitDeps, revisits
from guidance_shared.dates import china_day
from guidance_shared.projection import ConsumedEvent


def case_closed(deps: RevisitDeps, conn: Connection, event: ConsumedEvent) -> None:
    """A closed case is revisited by the department's policy: major, ordinary penalty, or a spot draw."""
    row = projection.case(conn, str(event.data["case_id"]))
    if row is None:
        return  # a case opened before revisit's history began: nothing to base a revisit on
    case = dict(row._mapping) | {"major": event.data["major"]}
    policy = deps.policies.for_department(row.department_id)
    plans = plan_case_closed(case, china_day(event.data["closed_at"]), policy, deps.calendar)
    officer = _officer(json.loads(row.lead_officer)) if row.lead_officer else None
    for index, planned in enumerate(plans):
        revisits.schedule(
            deps, conn, row.department_id, planned, source_event_id=event.envelope.id, index=index, officer=officer
        )


def guidance_issued(deps: RevisitDeps, conn: Connection, event: ConsumedEvent) -> None:
    """A guidance act with a correction deadline gets a correction check, assigned to its first officer."""
    data = event.data
    department_id = str(data["department_id"])
    planned = plan_correction_check(data, deps.policies.for_department(department_id))
    if planned is None:
        return
    officers = data.get("officers") or []
    officer = _officer(officers[0]) if officers else None
    revisits.schedule(deps, conn, department_id, planned, source_event_id=event.envelope.id, officer=officer)


def guidance_withdrawn(deps: RevisitDeps, conn: Connection, event: ConsumedEvent) -> None:
    revisits.cancel_open(
        deps,
        conn,
        "指导已撤回 (guidance withdrawn)",
        guidance_id=str(event.data["guidance_id"]),
    )


def case_decision_revoked(deps: RevisitDeps, conn: Connection, event: ConsumedEvent) -> None:
    revisits.cancel_open(
        deps,
        conn,
        "处理决定已撤销 (decision revoked)",
        case_id=str(event.data["case_id"]),
    )


def _officer(raw: Mapping[str, object]) -> Officer:
    """An officer of event data or of the history's JSON; identifiers as text."""

    def text(key: str) -> str | None:
        value = raw.get(key)
        return None if value is None else str(value)

    return Officer(name=str(raw["name"]), badge_no=text("badge_no"), officer_id=text("officer_id"))
