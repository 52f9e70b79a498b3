"""The read model of reminder plans, updated in the transaction that appends their events.

It answers the forecast (plans by department and status, with their statistics) and the task list
(accepted plans whose notice date has come or is near); detection reads it to skip plans it has
already made without loading their streams.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Boolean, Column, Connection, Date, Integer, MetaData, String, Table, Text, insert, select, update

from guidance_shared.eventstore import StoredEvent

REMINDER_MODEL = MetaData()

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
)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def apply(conn: Connection, events: Iterable[StoredEvent]) -> None:
    for event in events:
        d = event.data
        name = event.type.split(".")[1]
        if name == "ReminderPlanned":
            conn.execute(
                insert(reminder_plans).values(
                    plan_id=d["plan_id"],
                    department_id=d["department_id"],
                    violation_category=d["violation_category"],
                    domain=d.get("domain"),
                    period_from=_day(d["peak_period"]["from"]),
                    period_to=_day(d["peak_period"]["to"]),
                    notify_on=_day(d["notify_on"]),
                    status="planned",
                    adjusted=False,
                    basis=json.dumps(d["basis"], ensure_ascii=False),
                    planned_at=str(d["planned_at"]),
                    version=event.version,
                )
            )
            continue
        values: dict[str, Any] = {"version": event.version}
        if name == "ReminderPlanAccepted":
            values.update(status="accepted", decided_by=d["accepted_by"]["name"], decided_at=str(d["at"]))
        elif name == "ReminderPlanAdjusted":
            values.update(
                status="accepted",
                adjusted=True,
                period_from=_day(d["peak_period"]["from"]),
                period_to=_day(d["peak_period"]["to"]),
                notify_on=_day(d["notify_on"]),
                decided_by=d["by"]["name"],
                decided_at=str(d["at"]),
                reason=d["reason"],
            )
        elif name == "ReminderPlanDismissed":
            values.update(status="dismissed", decided_by=d["by"]["name"], decided_at=str(d["at"]), reason=d["reason"])
        conn.execute(update(reminder_plans).where(reminder_plans.c.plan_id == event.stream_id).values(**values))


def exists(conn: Connection, plan_id: str) -> bool:
    return conn.execute(select(reminder_plans.c.plan_id).where(reminder_plans.c.plan_id == plan_id)).first() is not None


def rows(
    conn: Connection,
    department_id: str,
    *,
    statuses: Iterable[str] | None = None,
    notify_by: date | None = None,
) -> list[dict[str, Any]]:
    """Plans of a department by status (all when None), optionally only those to notify by a date."""
    query = select(reminder_plans).where(reminder_plans.c.department_id == department_id)
    if statuses is not None:
        query = query.where(reminder_plans.c.status.in_(tuple(statuses)))
    if notify_by is not None:
        query = query.where(reminder_plans.c.notify_on <= notify_by)
    query = query.order_by(reminder_plans.c.notify_on, reminder_plans.c.violation_category, reminder_plans.c.plan_id)
    found = [dict(r._mapping) for r in conn.execute(query)]
    for row in found:
        row["basis"] = json.loads(row["basis"])
    return found


def one(conn: Connection, plan_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(reminder_plans).where(reminder_plans.c.plan_id == plan_id)).first()
    if row is None:
        return None
    found = dict(row._mapping)
    found["basis"] = json.loads(found["basis"])
    return found
