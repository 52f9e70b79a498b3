"""revisit's read model of its own revisits, updated in the transaction that appends their events.

It answers the worklists (due, overdue, completed by department, officer and date) and the
calendar feeds, and tells the overdue check which revisits to look at.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Column, Connection, Date, Integer, MetaData, String, Table, Text, insert, select, update

from guidance_shared.eventstore import StoredEvent

READ_MODEL = MetaData()

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
)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def apply(conn: Connection, events: Iterable[StoredEvent]) -> None:
    for event in events:
        d = event.data
        name = event.type.split(".")[1]
        if name == "RevisitScheduled":
            officer = d.get("officer") or {}
            conn.execute(
                insert(revisits).values(
                    revisit_id=d["revisit_id"],
                    department_id=d["department_id"],
                    kind=d["kind"],
                    case_id=d.get("case_id"),
                    guidance_id=d.get("guidance_id"),
                    due_on=_day(d["due_on"]),
                    reason=d["reason"],
                    officer_id=officer.get("officer_id"),
                    officer_name=officer.get("name"),
                    status="scheduled",
                    version=event.version,
                )
            )
            continue
        values: dict[str, Any] = {"version": event.version}
        if name == "RevisitRescheduled":
            values.update(due_on=_day(d["due_on"]), status="scheduled")
        elif name == "RevisitOverdue":
            values.update(status="overdue")
        elif name == "RevisitCompleted":
            values.update(
                status="completed",
                completed_on=_day(d["completed_on"]),
                findings=json.dumps(d["findings"], ensure_ascii=False),
            )
        elif name == "RevisitCancelled":
            values.update(status="cancelled")
        conn.execute(update(revisits).where(revisits.c.revisit_id == event.stream_id).values(**values))


def past_due(conn: Connection, today: date, limit: int = 500) -> list[str]:
    """Scheduled revisits whose due date has passed: candidates for RevisitOverdue."""
    query = (
        select(revisits.c.revisit_id)
        .where(revisits.c.status == "scheduled", revisits.c.due_on < today)
        .order_by(revisits.c.due_on)
        .limit(limit)
    )
    return [row[0] for row in conn.execute(query)]


def open_for(conn: Connection, *, case_id: str | None = None, guidance_id: str | None = None) -> list[str]:
    """Revisits still to be done that follow this case or guidance act (to cancel them)."""
    query = select(revisits.c.revisit_id).where(revisits.c.status.in_(("scheduled", "overdue")))
    if case_id is not None:
        query = query.where(revisits.c.case_id == case_id)
    if guidance_id is not None:
        query = query.where(revisits.c.guidance_id == guidance_id)
    return [row[0] for row in conn.execute(query)]
