"""The read side: what revisit's views show, selected from its read models and its history of intake.

Worklists and calendar feeds from ``read_model.revisits``; the forecast and the task list from
``read_model.reminder_plans``, each plan with the reminders intake has issued for it (from the
history in ``projection``); one guidance act with its case.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from datetime import date, datetime
from typing import Any, TypedDict

from sqlalchemy import Connection, RowMapping, Select, select, tuple_

from guidance_revisit.adapters.projection import cases, guidance, issued_reminders
from guidance_revisit.adapters.read_model import reminder_plans, revisits
from guidance_shared.dates import CHINA_TZ

OPEN = ("scheduled", "overdue")


class RevisitRecord(TypedDict):
    """One row of the worklists and feeds (the ``RevisitRow`` schema)."""

    revisit_id: str
    department_id: str
    kind: str
    case_id: str | None
    guidance_id: str | None
    due_on: date
    reason: str
    officer_id: str | None
    officer_name: str | None
    status: str
    completed_on: date | None
    findings: dict[str, bool | None] | None
    version: int
    deadline_estimated: bool


PeriodRecord = TypedDict("PeriodRecord", {"from": date, "to": date})  # a peak period as the wire names its ends


class PlanRecord(TypedDict):
    """One reminder plan of the forecast (the ``PlanRow`` schema)."""

    plan_id: str
    department_id: str
    violation_category: str
    domain: str | None
    period_from: date
    period_to: date
    peak_period: PeriodRecord
    notify_on: date
    status: str
    adjusted: bool
    basis: dict[str, Any]  # the ReminderBasis document, as planned
    planned_at: str
    decided_by: str | None
    decided_at: str | None
    reason: str | None
    version: int


class ForecastRecord(PlanRecord):
    """A plan of the forecast or the task list, with what intake has issued for it."""

    reminders_issued: list[str]  # 文号 of the enforcement reminders issued for it


class CaseRecord(TypedDict):
    """A case as revisit knows it (the ``CaseView`` schema)."""

    case_id: str
    case_no: str
    department_id: str
    major: bool
    procedure: str
    violation_category: str
    status: str
    outcome: str | None
    decision: str | None
    lead_officer: str | None
    opened_on: date
    closed_on: date | None
    decision_revoked_on: date | None


class GuidanceRecord(TypedDict):
    """A guidance act as revisit last heard of it, with its related case (the ``GuidanceHistoryView`` schema)."""

    guidance_id: str
    doc_no: str
    department_id: str
    content_type: str
    correction_deadline: date | None
    related_case_id: str | None
    counterpart_kind: str
    counterpart_name: str
    status: str
    lead_officer: str | None
    issued_at: datetime
    status_changed_at: datetime | None
    related_case: CaseRecord | None


# -- revisits ------------------------------------------------------------------------------------------------
def worklist(
    conn: Connection,
    department_id: str,
    status: str,
    *,
    officer_id: str | None = None,
    due_from: date | None = None,
    due_to: date | None = None,
    limit: int | None = None,
    after: tuple[date, str] | None = None,
) -> list[RevisitRecord]:
    """A department's revisits by status (``due``: scheduled, ``open``: scheduled or overdue), officer, due range,
    earliest due first: ``limit`` of them after the keyset ``after`` (due date, id), read down
    ``ix_revisits_listing`` or, for one officer, ``ix_revisits_officer_listing``, never by OFFSET."""
    statement = select(revisits).where(revisits.c.department_id == department_id)
    if status == "due":
        statement = statement.where(revisits.c.status == "scheduled")
    elif status == "open":
        statement = statement.where(revisits.c.status.in_(OPEN))
    else:
        statement = statement.where(revisits.c.status == status)
    if officer_id:
        statement = statement.where(revisits.c.officer_id == officer_id)
    if due_from:
        statement = statement.where(revisits.c.due_on >= due_from)
    if due_to:
        statement = statement.where(revisits.c.due_on <= due_to)
    sort = (revisits.c.due_on, revisits.c.revisit_id)
    if after is not None:
        statement = statement.where(tuple_(*sort) > tuple_(*after))
    statement = statement.order_by(*sort)
    return _revisits(conn, statement if limit is None else statement.limit(limit))


def officer_feed(conn: Connection, officer_id: str, departments: Collection[str] | None) -> list[RevisitRecord]:
    """One officer's open revisits, in the given departments (all when None), by due date."""
    statement = select(revisits).where(revisits.c.officer_id == officer_id, revisits.c.status.in_(OPEN))
    if departments is not None:
        statement = statement.where(revisits.c.department_id.in_(sorted(departments)))
    return _revisits(conn, statement.order_by(revisits.c.due_on))


def _revisits(conn: Connection, statement: Select[Any]) -> list[RevisitRecord]:
    found: list[RevisitRecord] = []
    for row in conn.execute(statement):
        record: Any = dict(row._mapping)
        record["findings"] = json.loads(record["findings"]) if record["findings"] else None
        record["deadline_estimated"] = bool(record["deadline_estimated"])
        found.append(record)
    return found


# -- reminder plans -------------------------------------------------------------------------------------------
def plans(
    conn: Connection,
    department_id: str,
    *,
    statuses: Iterable[str] | None = None,
    notify_by: date | None = None,
    current_on: date | None = None,
    limit: int | None = None,
    after: tuple[Any, ...] | None = None,
) -> list[ForecastRecord]:
    """Plans of a department by status (all when None), optionally only those to notify by a date and those
    whose period has not ended by ``current_on``; by notice date, category and id: ``limit`` of them after
    the keyset ``after``, read down ``ix_reminder_plans_listing`` (or, for every status, ``_department_listing``)."""
    query = select(reminder_plans).where(reminder_plans.c.department_id == department_id)
    if statuses is not None:
        query = query.where(reminder_plans.c.status.in_(tuple(statuses)))
    if notify_by is not None:
        query = query.where(reminder_plans.c.notify_on <= notify_by)
    if current_on is not None:
        query = query.where(reminder_plans.c.period_to >= current_on)
    sort = (reminder_plans.c.notify_on, reminder_plans.c.violation_category, reminder_plans.c.plan_id)
    if after is not None:
        query = query.where(tuple_(*sort) > tuple_(*after))
    query = query.order_by(*sort)
    if limit is not None:
        query = query.limit(limit)
    found: list[ForecastRecord] = []
    for row in conn.execute(query):
        record: Any = _plan(row._mapping)
        record["reminders_issued"] = reminders_covering(
            conn, record["department_id"], record["violation_category"], record["period_from"], record["period_to"]
        )
        found.append(record)
    return found


def plan(conn: Connection, plan_id: str) -> PlanRecord | None:
    row = conn.execute(select(reminder_plans).where(reminder_plans.c.plan_id == plan_id)).first()
    return None if row is None else _plan(row._mapping)


def _plan(row: RowMapping) -> PlanRecord:
    record: Any = dict(row)
    record["basis"] = json.loads(record["basis"])
    record["peak_period"] = {"from": record["period_from"], "to": record["period_to"]}
    plan_record: PlanRecord = record
    return plan_record


def reminders_covering(conn: Connection, department_id: str, category: str, start: date, end: date) -> list[str]:
    """Document numbers of the reminders issued for this category whose period overlaps [start, end]."""
    table = issued_reminders
    rows = conn.execute(
        select(table.c.doc_no)
        .select_from(table.join(guidance, guidance.c.guidance_id == table.c.guidance_id))
        .where(
            table.c.department_id == department_id,
            table.c.violation_category == category,
            table.c.period_from <= end,
            table.c.period_to >= start,
            guidance.c.status != "withdrawn",
        )
        .order_by(table.c.doc_no)
    )
    return [row[0] for row in rows]


# -- the history of guidance acts and cases -------------------------------------------------------------------
def guidance_item(conn: Connection, guidance_id: str) -> GuidanceRecord | None:
    """One guidance act with its moments in China's time and its related case (None until the case is known)."""
    row = conn.execute(select(guidance).where(guidance.c.guidance_id == guidance_id)).first()
    if row is None:
        return None
    item: Any = dict(row._mapping)
    for key in ("issued_at", "status_changed_at"):
        if item[key] is not None:
            item[key] = datetime.fromisoformat(item[key]).astimezone(CHINA_TZ)
    related = item["related_case_id"]
    item["related_case"] = case_item(conn, related) if related else None
    record: GuidanceRecord = item
    return record


def case_item(conn: Connection, case_id: str) -> CaseRecord | None:
    row = conn.execute(select(cases).where(cases.c.case_id == case_id)).first()
    if row is None:
        return None
    record: Any = dict(row._mapping)
    case_record: CaseRecord = record
    return case_record
