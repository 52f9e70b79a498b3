"""Command handlers of revisit: one function per command, inside the caller's transaction.

Scheduling reacts to intake's events inside the consumer's projection transaction, so a revisit
is scheduled exactly once per closing, however often the event is delivered: the revisit id is
derived from the source event, and a second delivery finds the stream already there.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import structlog
from sqlalchemy import Connection, Engine

from guidance_revisit.adapters import read_model
from guidance_revisit.domain.policy import PlannedRevisit, Policies
from guidance_revisit.domain.revisit import CANCELLED, COMPLETED, OVERDUE, RESCHEDULED, SCHEDULED, Revisit
from guidance_shared.commands import each_in_own_transaction, save, valid_event_data
from guidance_shared.errors import ConcurrencyError, NotFound
from guidance_shared.events.registry import EventRegistry
from guidance_shared.eventstore import EventStore
from guidance_shared.workdays import WorkingCalendar

log = structlog.get_logger(__name__)
REVISIT_IDS = uuid.UUID("8d7c3f52-6a0e-4b8e-9a55-3c1d2b7e9f10")  # namespace: revisit id from source event


@dataclass
class Revisits:
    store: EventStore
    registry: EventRegistry
    policies: Policies = field(default_factory=Policies)
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


def schedule(
    revisits: Revisits,
    conn: Connection,
    department_id: str,
    planned: PlannedRevisit,
    *,
    source_event_id: str,
    index: int = 0,
    officer: Mapping[str, Any] | None = None,
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
        "officer": dict(officer) if officer else None,
        "draw": dict(planned.draw) if planned.draw else None,
        "scheduled_at": revisits.now().isoformat(),
    }
    revisit = Revisit(revisit_id)
    revisit.schedule(valid_event_data(revisits.registry, SCHEDULED, data))
    try:
        with conn.begin_nested():
            _save(revisits, conn, revisit, causation_id=source_event_id)
    except ConcurrencyError:
        return None
    return revisit_id


def cancel_open(
    revisits: Revisits,
    conn: Connection,
    reason: str,
    *,
    source_event_id: str,
    case_id: str | None = None,
    guidance_id: str | None = None,
) -> int:
    """Cancel what is still to be done for a withdrawn guidance act or a revoked decision."""
    count = 0
    for revisit_id in read_model.open_for(conn, case_id=case_id, guidance_id=guidance_id):
        revisit = load(revisits, revisit_id, conn=conn)
        revisit.cancel(
            valid_event_data(
                revisits.registry,
                CANCELLED,
                {
                    "revisit_id": revisit_id,
                    "department_id": revisit.department_id,
                    "reason": reason,
                    "at": revisits.now().isoformat(),
                },
            )
        )
        _save(revisits, conn, revisit, causation_id=source_event_id)
        count += 1
    return count


def complete(
    revisits: Revisits,
    conn: Connection,
    revisit_id: str,
    command: dict[str, Any],
    *,
    expected_version: int | None = None,
    correlation_id: str | None = None,
) -> Revisit:
    revisit = load(revisits, revisit_id, conn=conn, expected_version=expected_version)
    data = {
        **command,
        "revisit_id": revisit_id,
        "department_id": revisit.department_id,
        "case_id": revisit.details.get("case_id"),
        "guidance_id": revisit.details.get("guidance_id"),
    }
    revisit.complete(valid_event_data(revisits.registry, COMPLETED, data))
    _save(revisits, conn, revisit, correlation_id=correlation_id)
    return revisit


def reschedule(
    revisits: Revisits,
    conn: Connection,
    revisit_id: str,
    command: dict[str, Any],
    *,
    expected_version: int | None = None,
    correlation_id: str | None = None,
) -> Revisit:
    revisit = load(revisits, revisit_id, conn=conn, expected_version=expected_version)
    data = {
        "revisit_id": revisit_id,
        "department_id": revisit.department_id,
        "previous_due_on": revisit.due_on.isoformat() if revisit.due_on else None,
        "due_on": _iso(command["due_on"]),
        "reason": command["reason"],
        "at": revisits.now().isoformat(),
    }
    revisit.reschedule(valid_event_data(revisits.registry, RESCHEDULED, data))
    _save(revisits, conn, revisit, correlation_id=correlation_id)
    return revisit


def cancel(
    revisits: Revisits,
    conn: Connection,
    revisit_id: str,
    command: dict[str, Any],
    *,
    expected_version: int | None = None,
    correlation_id: str | None = None,
) -> Revisit:
    revisit = load(revisits, revisit_id, conn=conn, expected_version=expected_version)
    data = {
        "revisit_id": revisit_id,
        "department_id": revisit.department_id,
        "reason": command["reason"],
        "at": revisits.now().isoformat(),
    }
    revisit.cancel(valid_event_data(revisits.registry, CANCELLED, data))
    _save(revisits, conn, revisit, correlation_id=correlation_id)
    return revisit


def flag_overdue(revisits: Revisits, engine: Engine, today: date) -> int:
    """Emit RevisitOverdue once per revisit past its due date; safe with several workers and restarts.

    Each revisit is flagged in its own transaction with the version it was loaded at; a worker that
    loses the race gets a conflict and moves on, and a flagged revisit is never flagged again.
    """
    with engine.connect() as conn:
        candidates = read_model.past_due(conn, today)

    def flag(conn: Connection, revisit_id: str) -> bool:
        revisit = load(revisits, revisit_id, conn=conn)
        data = {
            "revisit_id": revisit_id,
            "department_id": revisit.department_id,
            "due_on": revisit.due_on.isoformat() if revisit.due_on else None,
            "detected_at": revisits.now().isoformat(),
        }
        if not revisit.mark_overdue(valid_event_data(revisits.registry, OVERDUE, data), today):
            return False
        _save(revisits, conn, revisit)
        return True

    return each_in_own_transaction(engine, candidates, flag)


def load(
    revisits: Revisits, revisit_id: str, *, conn: Connection | None = None, expected_version: int | None = None
) -> Revisit:
    history = revisits.store.load(revisit_id, conn=conn)
    if not history or history[0].stream_type != "Revisit":
        raise NotFound("revisit", "回访", revisit_id)
    revisit = Revisit.from_history(revisit_id, history)
    if expected_version is not None and expected_version != revisit.version:
        raise ConcurrencyError(revisit_id, expected_version, revisit.version)
    return revisit


def _save(
    revisits: Revisits,
    conn: Connection,
    revisit: Revisit,
    *,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> None:
    save(
        revisits.store,
        conn,
        revisit,
        revisit.revisit_id,
        "Revisit",
        project=read_model.apply,
        correlation_id=correlation_id,
        causation_id=causation_id,
    )


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)
