"""Commands on reminder plans (执法事项提示): plan them from case history, accept, adjust, dismiss.

Planning reads revisit's own projection of intake's cases, never intake. A plan's id is derived
from department, category and the start of the period, so running detection again (another
worker, a restart, tomorrow's run) finds the stream already there and plans nothing twice — and a
dismissed plan stays dismissed.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date

import structlog
from sqlalchemy import Connection

from guidance_revisit.adapters import projection, read_model
from guidance_revisit.domain import reminders
from guidance_revisit.domain.commands import AcceptReminderPlan, AdjustReminderPlan, DismissReminderPlan
from guidance_revisit.domain.reminder_plan import ReminderPlan
from guidance_revisit.handlers import RevisitDeps
from guidance_shared import catalogue
from guidance_shared.errors import ConcurrencyError
from guidance_shared.handling import valid_event_data

log = structlog.get_logger(__name__)
PLAN_IDS = uuid.UUID("0f3c6a1e-5d2b-4f7a-8c9e-2b1d4e6f8a03")  # namespace: plan id from department, category, period


def plan_id_for(department_id: str, violation_category: str, period_from: date) -> str:
    return str(uuid.uuid5(PLAN_IDS, f"{department_id}:{violation_category}:{period_from.isoformat()}"))


def plan_reminders(deps: RevisitDeps, today: date, settings: reminders.ReminderSettings) -> int:
    """Plan the reminders due now for every department and violation category; returns how many are new."""
    start, end = reminders.lookback(today, settings.lookback_years)
    with deps.engine.connect() as conn:
        first_seen = projection.first_case_by_department(conn)
        per_day = projection.cases_opened_per_day(conn, start, end)
    history: dict[tuple[str, str], list[date]] = defaultdict(list)
    for department_id, category, opened_on, count in per_day:
        history[(department_id, category)].extend([opened_on] * count)
    planned = 0
    for (department_id, category), dates in sorted(history.items()):
        for reminder in reminders.plan(department_id, category, dates, today, settings, first_seen.get(department_id)):
            if plan_one(deps, reminder):
                planned += 1
    return planned


def plan_one(deps: RevisitDeps, reminder: reminders.PlannedReminder) -> bool:
    """Record one detected reminder as a new plan, in its own transaction; False if it is already planned."""
    plan_id = plan_id_for(reminder.department_id, reminder.violation_category, reminder.period_from)
    try:
        with deps.engine.begin() as conn:
            if read_model.plan_exists(conn, plan_id):
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
                "planned_at": deps.now().isoformat(),
            }
            plan.plan(valid_event_data(deps.registry, catalogue.REMINDER_PLANNED, data))
            deps.plans.save(conn, plan)  # version 0: appends only to a new stream
    except ConcurrencyError:
        log.info("reminder.plan_raced", plan_id=plan_id)  # another worker planned it first
        return False
    log.info("reminder.planned", plan_id=plan_id, category=reminder.violation_category, notify_on=reminder.notify_on)
    return True


def accept(
    deps: RevisitDeps,
    conn: Connection,
    cmd: AcceptReminderPlan,
    *,
    expected_version: int | None = None,
) -> ReminderPlan:
    def decide(plan: ReminderPlan) -> None:
        data = {
            "plan_id": cmd.plan_id,
            "department_id": plan.department_id,
            "accepted_by": cmd.accepted_by.as_data(),
            "at": deps.now().isoformat(),
        }
        plan.accept(valid_event_data(deps.registry, catalogue.REMINDER_PLAN_ACCEPTED, data))

    return deps.plans.change(conn, cmd.plan_id, decide, expected_version=expected_version)


def adjust(
    deps: RevisitDeps,
    conn: Connection,
    cmd: AdjustReminderPlan,
    *,
    expected_version: int | None = None,
) -> ReminderPlan:
    def decide(plan: ReminderPlan) -> None:
        data = {
            "plan_id": cmd.plan_id,
            "department_id": plan.department_id,
            "peak_period": cmd.peak_period.as_data(),
            "notify_on": cmd.notify_on.isoformat(),
            "reason": cmd.reason,
            "by": cmd.by.as_data(),
            "at": deps.now().isoformat(),
        }
        plan.adjust(valid_event_data(deps.registry, catalogue.REMINDER_PLAN_ADJUSTED, data))

    return deps.plans.change(conn, cmd.plan_id, decide, expected_version=expected_version)


def dismiss(
    deps: RevisitDeps,
    conn: Connection,
    cmd: DismissReminderPlan,
    *,
    expected_version: int | None = None,
) -> ReminderPlan:
    def decide(plan: ReminderPlan) -> None:
        data = {
            "plan_id": cmd.plan_id,
            "department_id": plan.department_id,
            "reason": cmd.reason,
            "by": cmd.by.as_data(),
            "at": deps.now().isoformat(),
        }
        plan.dismiss(valid_event_data(deps.registry, catalogue.REMINDER_PLAN_DISMISSED, data))

    return deps.plans.change(conn, cmd.plan_id, decide, expected_version=expected_version)
