"""Commands on revisits (回访): schedule, cancel what is open, complete, reschedule, cancel, flag overdue.

Each runs inside the caller's transaction. Scheduling reacts to intake's events inside the
consumer's projection transaction, so a revisit is scheduled exactly once per closing, however
often the event is delivered: the revisit id is derived from the source event, and a second
delivery finds the stream already there.
"""

from __future__ import annotations

import uuid
from datetime import date

import structlog
from sqlalchemy import Connection

from guidance_revisit.adapters import read_model
from guidance_revisit.domain.commands import CancelRevisit, CompleteRevisit, Officer, RescheduleRevisit
from guidance_revisit.domain.policy import PlannedRevisit
from guidance_revisit.domain.revisit import Revisit
from guidance_revisit.handlers import RevisitDeps
from guidance_shared import catalogue
from guidance_shared.chronology import require_not_after
from guidance_shared.dates import china_today, optional_iso
from guidance_shared.errors import ConcurrencyError
from guidance_shared.handling import each_in_own_transaction, valid_event_data

log = structlog.get_logger(__name__)
REVISIT_IDS = uuid.UUID("8d7c3f52-6a0e-4b8e-9a55-3c1d2b7e9f10")  # namespace: revisit id from source event


def schedule(
    deps: RevisitDeps,
    conn: Connection,
    department_id: str,
    planned: PlannedRevisit,
    *,
    source_event_id: str,
    index: int = 0,
    officer: Officer | None = None,
) -> str | None:
    """Schedule one planned revisit; None when this source event already scheduled it (redelivery)."""
    revisit_id = str(uuid.uuid5(REVISIT_IDS, f"{source_event_id}:{index}"))
    data = {
        "revisit_id": revisit_id,
        "department_id": department_id,
        "case_id": planned.case_id,
        "guidance_id": planned.guidance_id,
        "kind": planned.kind,
        "due_on": planned.due_on.isoformat(),
        "reason": planned.reason,
        "officer": officer.as_data() if officer else None,
        "draw": dict(planned.draw) if planned.draw else None,
        "scheduled_at": deps.now().isoformat(),
        "deadline_estimated": planned.due.estimated,
        "deadline_basis": planned.due.basis.as_data() if planned.due.basis else None,
    }
    revisit = Revisit(revisit_id)
    revisit.schedule(valid_event_data(deps.registry, catalogue.REVISIT_SCHEDULED, data))
    try:
        with conn.begin_nested():
            deps.revisits.save(conn, revisit)
    except ConcurrencyError:
        return None
    # One line per revisit an event scheduled: with the flow's ids, it ties the revisit to the command upstream.
    log.info("revisit.scheduled", revisit_id=revisit_id, kind=planned.kind, due_on=planned.due_on.isoformat())
    return revisit_id


def cancel_open(
    deps: RevisitDeps,
    conn: Connection,
    reason: str,
    *,
    case_id: str | None = None,
    guidance_id: str | None = None,
) -> int:
    """Cancel what is still to be done for a withdrawn guidance act or a revoked decision."""

    def cancel_it(revisit: Revisit) -> None:
        data = {
            "revisit_id": revisit.revisit_id,
            "department_id": revisit.department_id,
            "reason": reason,
            "at": deps.now().isoformat(),
        }
        revisit.cancel(valid_event_data(deps.registry, catalogue.REVISIT_CANCELLED, data))

    open_ones = read_model.open_for(conn, case_id=case_id, guidance_id=guidance_id)
    for revisit_id in open_ones:
        deps.revisits.change(conn, revisit_id, cancel_it)
    return len(open_ones)


def complete(
    deps: RevisitDeps,
    conn: Connection,
    cmd: CompleteRevisit,
    *,
    expected_version: int | None = None,
) -> Revisit:
    require_not_after(cmd.completed_on, china_today(deps.now()), "completed_on")

    def decide(revisit: Revisit) -> None:
        data = {
            "completed_on": cmd.completed_on.isoformat(),
            "officers": [officer.as_data() for officer in cmd.officers],
            "method": cmd.method,
            "findings": cmd.findings.as_data(),
            "notes": cmd.notes,
            "revisit_id": cmd.revisit_id,
            "department_id": revisit.department_id,
            "case_id": revisit.details.get("case_id"),
            "guidance_id": revisit.details.get("guidance_id"),
        }
        revisit.complete(valid_event_data(deps.registry, catalogue.REVISIT_COMPLETED, data))

    return deps.revisits.change(conn, cmd.revisit_id, decide, expected_version=expected_version)


def reschedule(
    deps: RevisitDeps,
    conn: Connection,
    cmd: RescheduleRevisit,
    *,
    expected_version: int | None = None,
) -> Revisit:
    def decide(revisit: Revisit) -> None:
        data = {
            "revisit_id": cmd.revisit_id,
            "department_id": revisit.department_id,
            "previous_due_on": optional_iso(revisit.due_on),
            "due_on": cmd.due_on.isoformat(),
            "reason": cmd.reason,
            "at": deps.now().isoformat(),
        }
        revisit.reschedule(valid_event_data(deps.registry, catalogue.REVISIT_RESCHEDULED, data))

    return deps.revisits.change(conn, cmd.revisit_id, decide, expected_version=expected_version)


def cancel(
    deps: RevisitDeps,
    conn: Connection,
    cmd: CancelRevisit,
    *,
    expected_version: int | None = None,
) -> Revisit:
    def decide(revisit: Revisit) -> None:
        data = {
            "revisit_id": cmd.revisit_id,
            "department_id": revisit.department_id,
            "reason": cmd.reason,
            "at": deps.now().isoformat(),
        }
        revisit.cancel(valid_event_data(deps.registry, catalogue.REVISIT_CANCELLED, data))

    return deps.revisits.change(conn, cmd.revisit_id, decide, expected_version=expected_version)


def recompute_deadlines(deps: RevisitDeps) -> int:
    """Count again, on the calendar now loaded, every open revisit whose due date was an estimate.

    Run when the calendar may have changed (the worker at start, then daily; ``calendar-recompute``): a
    newer chinesecalendar or the override file brings the year's arrangement. A revisit whose date
    moves, or stops being an estimate, records RevisitDeadlineRecomputed with both dates and the
    calendar's version; one that still counts the same is left alone, so a repeated run records
    nothing. Each revisit in its own transaction; two workers racing agree through the version check.
    """
    with deps.engine.connect() as conn:
        candidates = read_model.open_estimated(conn)

    def recompute(conn: Connection, revisit_id: str) -> bool:
        revisit = deps.revisits.load(conn, revisit_id)
        recount = revisit.recount(deps.calendar)
        if recount is None:
            return False
        data = {
            "revisit_id": revisit_id,
            "department_id": revisit.department_id,
            "previous_due_on": optional_iso(revisit.due_on),
            "due_on": recount.on.isoformat(),
            "previously_estimated": revisit.deadline_estimated,
            "deadline_estimated": recount.estimated,
            "calendar_version": deps.calendar.version,
            "recomputed_at": deps.now().isoformat(),
        }
        revisit.recompute(valid_event_data(deps.registry, catalogue.REVISIT_DEADLINE_RECOMPUTED, data))
        deps.revisits.save(conn, revisit)
        return True

    return each_in_own_transaction(deps.engine, candidates, recompute)


def flag_overdue(deps: RevisitDeps, today: date) -> int:
    """Emit RevisitOverdue once per revisit past its due date; safe with several workers and restarts.

    Each revisit is flagged in its own transaction with the version it was loaded at; a worker that
    loses the race gets a conflict and moves on, and a flagged revisit is never flagged again.
    """
    with deps.engine.connect() as conn:
        candidates = read_model.past_due(conn, today)

    def flag(conn: Connection, revisit_id: str) -> bool:
        revisit = deps.revisits.load(conn, revisit_id)
        data = {
            "revisit_id": revisit_id,
            "department_id": revisit.department_id,
            "due_on": optional_iso(revisit.due_on),
            "detected_at": deps.now().isoformat(),
        }
        if not revisit.mark_overdue(valid_event_data(deps.registry, catalogue.REVISIT_OVERDUE, data), today):
            return False
        deps.revisits.save(conn, revisit)
        return True

    return each_in_own_transaction(deps.engine, candidates, flag)
