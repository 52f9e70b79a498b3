"""revisit's read models of its own events, updated in the transaction that appends them.

``revisits`` answers the worklists (due, overdue, completed by department, officer and date) and
the calendar feeds, and tells the overdue check which revisits to look at. ``reminder_plans``
answers the forecast (plans by department and status, with their statistics) and the task list
(accepted plans whose notice date has come or is near); detection reads it to skip plans it has
already made without loading their streams. Both are refolded from the event store alone
(``rebuild-read-models``), one event type at a time through ``UPDATES``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import date

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
    func,
    insert,
    select,
    update,
)

from guidance_shared import catalogue
from guidance_shared.dates import as_date
from guidance_shared.dispatch import EventHandlers
from guidance_shared.messages import StoredEvent

READ_MODEL = MetaData()  # the revisits (stream type Revisit)
REMINDER_MODEL = MetaData()  # the reminder plans (stream type ReminderPlan)

revisits = Table(
    "revisits",
    READ_MODEL,
    Column("revisit_id", String(36), primary_key=True),
    Column("department_id", String(36), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("case_id", String(36), nullable=True, index=True),
    Column("guidance_id", String(36), nullable=True, index=True),
    Column("due_on", Date, nullable=False, index=True),
    Column("reason", Text, nullable=False),
    Column("officer_id", String(36), nullable=True, index=True),
    Column("officer_name", String(50), nullable=True),
    Column("status", String(20), nullable=False, index=True),
    Column("completed_on", Date, nullable=True),
    Column("findings", Text, nullable=True),
    Column("version", Integer, nullable=False),
    # due_on was counted on an estimated calendar (its year's holiday arrangement not published yet)
    Column("deadline_estimated", Boolean, nullable=False, server_default=false()),
    # The worklists, earliest due first, by status and by officer (queries.worklist reads by them).
    Index("ix_revisits_listing", "department_id", "status", "due_on", "revisit_id"),
    Index("ix_revisits_officer_listing", "department_id", "officer_id", "status", "due_on", "revisit_id"),
)

reminder_plans = Table(
    "reminder_plans",
    REMINDER_MODEL,
    Column("plan_id", String(36), primary_key=True),
    Column("department_id", String(36), nullable=False, index=True),
    Column("violation_category", String(100), nullable=False),
    Column("domain", String(20), nullable=True),
    Column("period_from", Date, nullable=False),
    Column("period_to", Date, nullable=False),
    Column("notify_on", Date, nullable=False, index=True),
    Column("status", String(20), nullable=False, index=True),
    Column("adjusted", Boolean, nullable=False),
    Column("basis", Text, nullable=False),  # JSON ReminderBasis
    Column("planned_at", String(40), nullable=False),
    Column("decided_by", String(50), nullable=True),
    Column("decided_at", String(40), nullable=True),
    Column("reason", Text, nullable=True),
    Column("version", Integer, nullable=False),
    # The forecast by notice date, for a status or for all (queries.plans reads by them, never by OFFSET).
    Index("ix_reminder_plans_listing", "department_id", "status", "notify_on", "violation_category", "plan_id"),
    Index("ix_reminder_plans_department_listing", "department_id", "notify_on", "violation_category", "plan_id"),
)


def apply(conn: Connection, events: Iterable[StoredEvent]) -> None:
    """Fold stored events of revisits and reminder plans into their tables (``Repository.project``)."""
    for event in events:
        UPDATES[event.type](conn, event)


# -- revisits ----------------------------------------------------------------------------------------
def _revisit_scheduled(conn: Connection, event: StoredEvent) -> None:
    d = event.data
    officer = d.get("officer") or {}
    conn.execute(
        insert(revisits).values(
            revisit_id=d["revisit_id"],
            department_id=d["department_id"],
            kind=d["kind"],
            case_id=d.get("case_id"),
            guidance_id=d.get("guidance_id"),
            due_on=as_date(d["due_on"]),
            reason=d["reason"],
            officer_id=officer.get("officer_id"),
            officer_name=officer.get("name"),
            status="scheduled",
            version=event.version,
            deadline_estimated=bool(d.get("deadline_estimated")),
        )
    )


def _revisit(conn: Connection, event: StoredEvent, **values: object) -> None:
    conn.execute(
        update(revisits).where(revisits.c.revisit_id == event.stream_id).values(version=event.version, **values)
    )


def _revisit_rescheduled(conn: Connection, event: StoredEvent) -> None:
    _revisit(conn, event, due_on=as_date(event.data["due_on"]), status="scheduled", deadline_estimated=False)


def _revisit_deadline_recomputed(conn: Connection, event: StoredEvent) -> None:
    d = event.data
    _revisit(conn, event, due_on=as_date(d["due_on"]), deadline_estimated=bool(d["deadline_estimated"]))


def _revisit_overdue(conn: Connection, event: StoredEvent) -> None:
    _revisit(conn, event, status="overdue")


def _revisit_completed(conn: Connection, event: StoredEvent) -> None:
    d = event.data
    _revisit(
        conn,
        event,
        status="completed",
        completed_on=as_date(d["completed_on"]),
        findings=json.dumps(d["findings"], ensure_ascii=False),
    )


def _revisit_cancelled(conn: Connection, event: StoredEvent) -> None:
    _revisit(conn, event, status="cancelled")


# -- reminder plans ------------------------------------------------------------------------------------
def _reminder_planned(conn: Connection, event: StoredEvent) -> None:
    d = event.data
    conn.execute(
        insert(reminder_plans).values(
            plan_id=d["plan_id"],
            department_id=d["department_id"],
            violation_category=d["violation_category"],
            domain=d.get("domain"),
            period_from=as_date(d["peak_period"]["from"]),
            period_to=as_date(d["peak_period"]["to"]),
            notify_on=as_date(d["notify_on"]),
            status="planned",
            adjusted=False,
            basis=json.dumps(d["basis"], ensure_ascii=False),
            planned_at=str(d["planned_at"]),
            version=event.version,
        )
    )


def _plan(conn: Connection, event: StoredEvent, **values: object) -> None:
    conn.execute(
        update(reminder_plans)
        .where(reminder_plans.c.plan_id == event.stream_id)
        .values(version=event.version, **values)
    )


def _plan_accepted(conn: Connection, event: StoredEvent) -> None:
    d = event.data
    _plan(conn, event, status="accepted", decided_by=d["accepted_by"]["name"], decided_at=str(d["at"]))


def _plan_adjusted(conn: Connection, event: StoredEvent) -> None:
    d = event.data
    _plan(
        conn,
        event,
        status="accepted",
        adjusted=True,
        period_from=as_date(d["peak_period"]["from"]),
        period_to=as_date(d["peak_period"]["to"]),
        notify_on=as_date(d["notify_on"]),
        decided_by=d["by"]["name"],
        decided_at=str(d["at"]),
        reason=d["reason"],
    )


def _plan_dismissed(conn: Connection, event: StoredEvent) -> None:
    d = event.data
    _plan(conn, event, status="dismissed", decided_by=d["by"]["name"], decided_at=str(d["at"]), reason=d["reason"])


UPDATES: EventHandlers[Callable[[Connection, StoredEvent], None]] = EventHandlers(
    {
        catalogue.REVISIT_SCHEDULED: _revisit_scheduled,
        catalogue.REVISIT_RESCHEDULED: _revisit_rescheduled,
        catalogue.REVISIT_DEADLINE_RECOMPUTED: _revisit_deadline_recomputed,
        catalogue.REVISIT_OVERDUE: _revisit_overdue,
        catalogue.REVISIT_COMPLETED: _revisit_completed,
        catalogue.REVISIT_CANCELLED: _revisit_cancelled,
        catalogue.REMINDER_PLANNED: _reminder_planned,
        catalogue.REMINDER_PLAN_ACCEPTED: _plan_accepted,
        catalogue.REMINDER_PLAN_ADJUSTED: _plan_adjusted,
        catalogue.REMINDER_PLAN_DISMISSED: _plan_dismissed,
    }
)
"""How each of revisit's own event types changes its read models (every type on revisit.events)."""


# -- what the handlers look up ---------------------------------------------------------------------------
def past_due(conn: Connection, today: date, limit: int = 500) -> list[str]:
    """Scheduled revisits whose due date has passed: candidates for RevisitOverdue."""
    query = (
        select(revisits.c.revisit_id)
        .where(revisits.c.status == "scheduled", revisits.c.due_on < today)
        .order_by(revisits.c.due_on)
        .limit(limit)
    )
    return [row[0] for row in conn.execute(query)]


def open_estimated(conn: Connection) -> list[str]:
    """Revisits still to be done whose due date is an estimate: to count again when the calendar changes."""
    query = select(revisits.c.revisit_id).where(
        revisits.c.status.in_(("scheduled", "overdue")), revisits.c.deadline_estimated.is_(True)
    )
    return [row[0] for row in conn.execute(query.order_by(revisits.c.due_on, revisits.c.revisit_id))]


def open_for(conn: Connection, *, case_id: str | None = None, guidance_id: str | None = None) -> list[str]:
    """Revisits still to be done that follow this case or guidance act (to cancel them)."""
    query = select(revisits.c.revisit_id).where(revisits.c.status.in_(("scheduled", "overdue")))
    if case_id is not None:
        query = query.where(revisits.c.case_id == case_id)
    if guidance_id is not None:
        query = query.where(revisits.c.guidance_id == guidance_id)
    return [row[0] for row in conn.execute(query)]


def plan_exists(conn: Connection, plan_id: str) -> bool:
    return conn.execute(select(reminder_plans.c.plan_id).where(reminder_plans.c.plan_id == plan_id)).first() is not None


# -- monitoring ------------------------------------------------------------------------------------------
def overdue_counts(conn: Connection, today: date) -> dict[str, tuple[int, int]]:
    """For ``guidance_overdue``: revisits past their due date and still open, and those of them not flagged yet."""
    rows: dict[str, int] = dict(
        conn.execute(
            select(revisits.c.status, func.count())
            .where(revisits.c.status.in_(("scheduled", "overdue")), revisits.c.due_on < today)
            .group_by(revisits.c.status)
        ).all()
    )
    return {"revisit": (int(sum(rows.values())), int(rows.get("scheduled", 0)))}
