"""revisit's own projection of intake's history: the guidance acts and cases that revisits hang off.

Built only from ``intake.events``, so revisit never asks intake (or its database) anything and can
rebuild this by replaying the topic. It keeps what scheduling a revisit needs — whom, which
department, which deadline, which case — and no personal data: of the counterpart (行政管理相对人)
only its kind and name are kept, never an ID number, phone, address or legal representative.
Dates of acts are China's calendar days (``dates.china_day``); moments are stored as UTC text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    MetaData,
    Row,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)

from guidance_shared import catalogue
from guidance_shared.dates import china_day
from guidance_shared.dispatch import EventHandlers
from guidance_shared.personal_data.field import is_sealed
from guidance_shared.privacy import REDACTED

GUIDANCE_STATUSES = ("issued", "suspended", "withdrawn")
CASE_STATUSES = ("open", "closed")

HISTORY = MetaData()

guidance = Table(
    "guidance_history",
    HISTORY,
    Column("guidance_id", String(36), primary_key=True),
    Column("doc_no", String(64), nullable=False),
    Column("department_id", String(36), nullable=False, index=True),
    Column("content_type", String(40), nullable=False),
    Column("correction_deadline", Date, nullable=True, index=True),
    Column("related_case_id", String(36), nullable=True, index=True),
    Column("counterpart_kind", String(30), nullable=False),
    Column("counterpart_name", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("lead_officer", Text, nullable=True),  # JSON {name, badge_no, officer_id}: who follows up
    Column("issued_at", String(40), nullable=False),  # UTC, RFC 3339
    Column("status_changed_at", String(40), nullable=True),  # UTC, RFC 3339
)

cases = Table(
    "cases",
    HISTORY,
    Column("case_id", String(36), primary_key=True),
    Column("case_no", String(64), nullable=False),
    Column("department_id", String(36), nullable=False, index=True),
    Column("major", Boolean, nullable=False),
    Column("procedure", String(20), nullable=False),
    Column("violation_category", String(100), nullable=False),
    Column("status", String(20), nullable=False),
    Column("outcome", String(40), nullable=True),
    Column("decision", String(30), nullable=True),
    Column("lead_officer", Text, nullable=True),
    Column("opened_on", Date, nullable=False),
    Column("closed_on", Date, nullable=True, index=True),
    Column("decision_revoked_on", Date, nullable=True),
)

# Enforcement reminders (执法事项提示) issued at intake: an accepted reminder plan they cover is done.
issued_reminders = Table(
    "issued_reminders",
    HISTORY,
    Column("guidance_id", String(36), primary_key=True),
    Column("department_id", String(36), nullable=False, index=True),
    Column("doc_no", String(64), nullable=False),
    Column("violation_category", String(100), nullable=False),
    Column("period_from", Date, nullable=False),
    Column("period_to", Date, nullable=False),
)

Update = Callable[[Connection, Mapping[str, Any]], None]
"""How one of intake's event types changes the history: the event's validated data, in the consumer's transaction."""


# -- guidance acts -------------------------------------------------------------------------------------
def _guidance_issued(conn: Connection, data: Mapping[str, Any]) -> None:
    counterpart = data["counterpart"]
    related = data.get("related_case_id")
    guidance_id, department_id = str(data["guidance_id"]), str(data["department_id"])
    # Replace rather than insert, so a re-delivered event leaves one row.
    conn.execute(delete(guidance).where(guidance.c.guidance_id == guidance_id))
    conn.execute(
        insert(guidance).values(
            guidance_id=guidance_id,
            doc_no=data["doc_no"],
            department_id=department_id,
            content_type=data["content_type"],
            correction_deadline=data.get("correction_deadline"),
            related_case_id=str(related) if related else None,
            counterpart_kind=counterpart["kind"],
            counterpart_name=shown_name(counterpart["name"]),
            status="issued",
            lead_officer=lead_officer(data.get("officers")),
            issued_at=data["issued_at"].astimezone(UTC).isoformat(),
            status_changed_at=None,
        )
    )
    reminder = data.get("reminder")
    if reminder:
        conn.execute(delete(issued_reminders).where(issued_reminders.c.guidance_id == guidance_id))
        conn.execute(
            insert(issued_reminders).values(
                guidance_id=guidance_id,
                department_id=department_id,
                doc_no=data["doc_no"],
                violation_category=reminder["violation_category"],
                period_from=reminder["period"]["from"],
                period_to=reminder["period"]["to"],
            )
        )


def _guidance_status(status: str) -> Update:
    def change(conn: Connection, data: Mapping[str, Any]) -> None:
        conn.execute(
            update(guidance)
            .where(guidance.c.guidance_id == str(data["guidance_id"]))
            .values(status=status, status_changed_at=data["at"].astimezone(UTC).isoformat())
        )

    return change


# -- cases -------------------------------------------------------------------------------------------------
def shown_name(name: object) -> str:
    """The counterpart's name as revisit keeps it: a natural person's name arrives sealed (docs/personal-data.md
    §6), and revisit holds no key to open it, so it keeps the redaction mark in its place."""
    return REDACTED if is_sealed(name) else str(name)


def _case_opened(conn: Connection, data: Mapping[str, Any]) -> None:
    case_id = str(data["case_id"])
    conn.execute(delete(cases).where(cases.c.case_id == case_id))
    conn.execute(
        insert(cases).values(
            case_id=case_id,
            case_no=data["case_no"],
            department_id=str(data["department_id"]),
            major=data["major"],
            procedure=data["procedure"],
            violation_category=data["violation"]["category"],
            status="open",
            outcome=None,
            decision=None,
            lead_officer=lead_officer(data.get("officers")),
            opened_on=china_day(data["opened_at"]),
            closed_on=None,
            decision_revoked_on=None,
        )
    )


def _case_closed(conn: Connection, data: Mapping[str, Any]) -> None:
    # A closed major case starts the revisit clock, so ``major`` as of closing is what counts.
    conn.execute(
        update(cases)
        .where(cases.c.case_id == str(data["case_id"]))
        .values(status="closed", outcome=data["outcome"], major=data["major"], closed_on=china_day(data["closed_at"]))
    )


def _case_decided(conn: Connection, data: Mapping[str, Any]) -> None:
    # Which rule schedules the revisit depends on the decision (a penalty in ordinary procedure).
    conn.execute(update(cases).where(cases.c.case_id == str(data["case_id"])).values(decision=data["decision"]))


def _case_decision_revoked(conn: Connection, data: Mapping[str, Any]) -> None:
    conn.execute(
        update(cases).where(cases.c.case_id == str(data["case_id"])).values(decision_revoked_on=china_day(data["at"]))
    )


UPDATES: EventHandlers[Update] = EventHandlers(
    {
        catalogue.GUIDANCE_ISSUED: _guidance_issued,
        catalogue.GUIDANCE_SUSPENDED: _guidance_status("suspended"),
        catalogue.GUIDANCE_WITHDRAWN: _guidance_status("withdrawn"),
        catalogue.CASE_OPENED: _case_opened,
        catalogue.CASE_DECIDED: _case_decided,
        catalogue.CASE_CLOSED: _case_closed,
        catalogue.CASE_DECISION_REVOKED: _case_decision_revoked,
    },
    ignored=(
        catalogue.GUIDANCE_RESPONDED,
        catalogue.CORRECTION_VERIFIED,
        catalogue.CASE_LEGAL_REVIEWED,
        catalogue.ARCHIVE_PACKAGE_PRODUCED,
        catalogue.PERSONAL_DATA_ERASED,
    ),
)
"""How each type on intake.events changes the history; the ignored ones change nothing revisit keeps."""


def apply(conn: Connection, ce_type: str, data: Mapping[str, Any]) -> None:
    """Apply one of intake's events (its validated data) to the history; an ignored type is a no-op."""
    update_history = UPDATES.get(ce_type)
    if update_history is not None:
        update_history(conn, data)


def lead_officer(officers: Sequence[Mapping[str, Any]] | None) -> str | None:
    """The first officer named, as JSON text with every value as a string: whom a revisit is assigned to."""
    if not officers:
        return None
    first = officers[0]
    return json.dumps({k: (str(v) if v is not None else None) for k, v in dict(first).items()}, ensure_ascii=False)


# -- what the handlers read -------------------------------------------------------------------------------------
def case(conn: Connection, case_id: str) -> Row[Any] | None:
    """A case as revisit knows it, or None when it was opened before revisit's history began."""
    return conn.execute(select(cases).where(cases.c.case_id == case_id)).first()


def first_case_by_department(conn: Connection) -> dict[str, date]:
    """Where each department's history begins: earlier months are unknown, not quiet."""
    rows = conn.execute(select(cases.c.department_id, func.min(cases.c.opened_on)).group_by(cases.c.department_id))
    return {row[0]: row[1] for row in rows}


def cases_opened_per_day(conn: Connection, start: date, end: date) -> list[tuple[str, str, date, int]]:
    """(department, violation category, day, cases opened) for every day in [start, end] with any."""
    rows = conn.execute(
        select(cases.c.department_id, cases.c.violation_category, cases.c.opened_on, func.count())
        .where(cases.c.opened_on >= start, cases.c.opened_on <= end)
        .group_by(cases.c.department_id, cases.c.violation_category, cases.c.opened_on)
    )
    return [(row[0], row[1], row[2], int(row[3])) for row in rows]
