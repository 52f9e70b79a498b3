"""Commands on reminder plans (执法事项提示): plan them from case history, accept, adjust, dismiss.

Planning reads revisit's own projection of intake's cases, never intake. A plan's id is derived
from department, category and the start of the period, so running detection again (another
worker, a restart, tomorrow's run) finds the stream already there and plans nothing twice — and a
dismissed plan stays dismissed.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from typing import Any

import structlog
from sqlalchemy import Connection, Engine, func, select

from guidance_revisit.adapters import reminder_plans
from guidance_revisit.domain import reminders
from guidance_revisit.domain.reminder_plan import ACCEPTED, ADJUSTED, DISMISSED, PLANNED, ReminderPlan
from guidance_revisit.handlers import Revisits
from guidance_revisit.projection import GuidanceHistoryProjection
from guidance_shared.commands import save, valid_event_data
from guidance_shared.errors import ConcurrencyError, NotFound

log = structlog.get_logger(__name__)
PLAN_IDS = uuid.UUID("0f3c6a1e-5d2b-4f7a-8c9e-2b1d4e6f8a03")  # namespace: plan id from department, category, period
_CASES = GuidanceHistoryProjection().cases  # the projection's table, for queries only


def plan_id_for(department_id: str, violation_category: str, period_from: date) -> str:
    return str(uuid.uuid5(PLAN_IDS, f"{department_id}:{violation_category}:{period_from.isoformat()}"))


def plan_reminders(revisits: Revisits, engine: Engine, today: date, settings: reminders.ReminderSettings) -> int:
    """Plan the reminders due now for every department and violation category; returns how many are new."""
    start, end = reminders.lookback(today, settings.lookback_years)
    with engine.connect() as conn:
        # Where a department's history begins: earlier months are unknown, not quiet.
        first_seen: dict[str, date] = {
            row[0]: row[1]
            for row in conn.execute(
                select(_CASES.c.department_id, func.min(_CASES.c.opened_on)).group_by(_CASES.c.department_id)
            )
        }
        per_day = conn.execute(
            select(_CASES.c.department_id, _CASES.c.violation_category, _CASES.c.opened_on, func.count())
            .where(_CASES.c.opened_on >= start, _CASES.c.opened_on <= end)
            .group_by(_CASES.c.department_id, _CASES.c.violation_category, _CASES.c.opened_on)
        ).all()
    history: dict[tuple[str, str], list[date]] = defaultdict(list)
    for department_id, category, opened_on, count in per_day:
        history[(department_id, category)].extend([opened_on] * int(count))
    planned = 0
    for (department_id, category), dates in sorted(history.items()):
        for reminder in reminders.plan(department_id, category, dates, today, settings, first_seen.get(department_id)):
            if _plan_one(revisits, engine, reminder):
                planned += 1
    return planned


def _plan_one(revisits: Revisits, engine: Engine, reminder: reminders.PlannedReminder) -> bool:
    plan_id = plan_id_for(reminder.department_id, reminder.violation_category, reminder.period_from)
    try:
        with engine.begin() as conn:
            if reminder_plans.exists(conn, plan_id):
                return False
            plan = ReminderPlan(plan_id)
            data = {
                "plan_id": plan_id,
                "department_id": reminder.department_id,
                "violation_category": reminder.violation_category,
                "domain": None,  # revisit's history of cases does not record the enforcement domain
                "peak_period": {"from": reminder.period_from.isoformat(), "to": reminder.period_to.isoformat()},
                "notify_on": reminder.notify_on.isoformat(),
                "basis": dict(reminder.basis),
                "planned_at": revisits.now().isoformat(),
            }
            plan.plan(valid_event_data(revisits.registry, PLANNED, data))
            _save(revisits, conn, plan)  # version 0: appends only to a new stream
    except ConcurrencyError:
        log.info("reminder.plan_raced", plan_id=plan_id)  # another worker planned it first
        return False
    log.info("reminder.planned", plan_id=plan_id, category=reminder.violation_category, notify_on=reminder.notify_on)
    return True


def accept(
    revisits: Revisits,
    conn: Connection,
    plan_id: str,
    command: Mapping[str, Any],
    *,
    expected_version: int | None = None,
    correlation_id: str | None = None,
) -> ReminderPlan:
    plan = load(revisits, plan_id, conn=conn, expected_version=expected_version)
    data = {
        "plan_id": plan_id,
        "department_id": plan.department_id,
        "accepted_by": command["accepted_by"],
        "at": revisits.now().isoformat(),
    }
    plan.accept(valid_event_data(revisits.registry, ACCEPTED, data))
    _save(revisits, conn, plan, correlation_id=correlation_id)
    return plan


def adjust(
    revisits: Revisits,
    conn: Connection,
    plan_id: str,
    command: Mapping[str, Any],
    *,
    expected_version: int | None = None,
    correlation_id: str | None = None,
) -> ReminderPlan:
    plan = load(revisits, plan_id, conn=conn, expected_version=expected_version)
    data = {
        "plan_id": plan_id,
        "department_id": plan.department_id,
        "peak_period": command["peak_period"],
        "notify_on": command["notify_on"],
        "reason": command["reason"],
        "by": command["by"],
        "at": revisits.now().isoformat(),
    }
    plan.adjust(valid_event_data(revisits.registry, ADJUSTED, data))
    _save(revisits, conn, plan, correlation_id=correlation_id)
    return plan


def dismiss(
    revisits: Revisits,
    conn: Connection,
    plan_id: str,
    command: Mapping[str, Any],
    *,
    expected_version: int | None = None,
    correlation_id: str | None = None,
) -> ReminderPlan:
    plan = load(revisits, plan_id, conn=conn, expected_version=expected_version)
    data = {
        "plan_id": plan_id,
        "department_id": plan.department_id,
        "reason": command["reason"],
        "by": command["by"],
        "at": revisits.now().isoformat(),
    }
    plan.dismiss(valid_event_data(revisits.registry, DISMISSED, data))
    _save(revisits, conn, plan, correlation_id=correlation_id)
    return plan


def load(
    revisits: Revisits, plan_id: str, *, conn: Connection | None = None, expected_version: int | None = None
) -> ReminderPlan:
    history = revisits.store.load(plan_id, conn=conn)
    if not history or history[0].stream_type != "ReminderPlan":
        raise NotFound("reminder plan", "执法事项提示计划", plan_id)
    plan = ReminderPlan.from_history(plan_id, history)
    if expected_version is not None and expected_version != plan.version:
        raise ConcurrencyError(plan_id, expected_version, plan.version)
    return plan


def _save(revisits: Revisits, conn: Connection, plan: ReminderPlan, *, correlation_id: str | None = None) -> None:
    save(
        revisits.store,
        conn,
        plan,
        plan.plan_id,
        "ReminderPlan",
        project=reminder_plans.apply,
        correlation_id=correlation_id,
    )
