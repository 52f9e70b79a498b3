"""revisit's periodic tasks, run by ``guidance-revisit worker`` beside the relay and the consumer.

They read the runtime's deps (``bootstrap.wire``) and loop until the worker stops; a failed run is
logged and retried at the next interval.
"""

from __future__ import annotations

import threading

import structlog

from guidance_revisit.handlers import RevisitDeps, reminder_plans, revisits
from guidance_shared.dates import china_today
from guidance_shared.runtime import Runtime

log = structlog.get_logger(__name__)


def overdue_check(runtime: Runtime[RevisitDeps], stop: threading.Event) -> None:
    """Every minute (GUIDANCE_OVERDUE_INTERVAL_S), flag revisits whose due date passed (China's calendar day)."""
    while not stop.is_set():
        deps = runtime.deps
        try:
            flagged = revisits.flag_overdue(deps, china_today())
            if flagged:
                log.info("revisit.overdue_flagged", count=flagged)
        except Exception:
            log.exception("revisit.overdue_check_failed")
        stop.wait(deps.settings.overdue_interval_s)


def reminder_planning(runtime: Runtime[RevisitDeps], stop: threading.Event) -> None:
    """Daily (GUIDANCE_REMINDER_INTERVAL_S), first at start: plan reminders before coming peak periods.

    Daily is enough: a plan is due at most once per period, and ids derived from the period make a
    repeated or concurrent run (several workers, a restart) plan nothing twice.
    """
    while not stop.is_set():
        deps = runtime.deps
        try:
            planned = reminder_plans.plan_reminders(deps, china_today(deps.now()), deps.reminders)
            if planned:
                log.info("revisit.reminders_planned", count=planned)
        except Exception:
            log.exception("revisit.reminder_planning_failed")
        stop.wait(deps.settings.reminder_interval_s)


def deadline_recount(runtime: Runtime[RevisitDeps], stop: threading.Event) -> None:
    """Once at start: count again the open revisits whose due date was an estimate.

    The calendar is read when the process starts (a newer chinesecalendar, the override file named by
    GUIDANCE_CALENDAR_OVERRIDES), so a restart is when it can change, and once is enough: what this
    process counts later it counts on the same calendar. Safe with several workers (one event per change).
    """
    try:
        log.info("revisit.deadlines_recounted", **recount_deadlines(runtime))
    except Exception:
        log.exception("revisit.deadline_recount_failed")


def recount_deadlines(runtime: Runtime[RevisitDeps]) -> dict[str, object]:
    """The recount itself (also ``guidance-revisit calendar-recompute``): how many changed, on which calendar."""
    deps = runtime.deps
    return {"recomputed": revisits.recompute_deadlines(deps), "calendar": deps.calendar.version}
