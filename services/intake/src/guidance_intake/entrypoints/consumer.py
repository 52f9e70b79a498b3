"""What intake does with revisit.events: a completed correction check becomes CorrectionVerified.

The reaction runs in the same transaction as the consumer's offsets, so it happens exactly once.
intake keeps no tables of other services' events: its own event store is the state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection, MetaData

from guidance_intake import handlers
from guidance_intake.domain.commands import VerifyCorrection
from guidance_shared import catalogue
from guidance_shared.dates import iso
from guidance_shared.dispatch import EventHandlers
from guidance_shared.projection import ConsumedEvent
from guidance_shared.runtime import Runtime

Reaction = Callable[[handlers.IntakeDeps, Connection, ConsumedEvent], object]


def correction_check(revisit: Mapping[str, Any]) -> VerifyCorrection | None:
    """What a RevisitCompleted amounts to here: a correction verified, when it checked a guidance act's
    correction (it names the act and says whether the counterpart corrected); else None."""
    guidance_id = revisit.get("guidance_id")
    corrected = (revisit.get("findings") or {}).get("corrected")
    if guidance_id is None or corrected is None:
        return None
    officer = revisit["officers"][0]
    return VerifyCorrection(
        guidance_id=str(guidance_id),
        corrected=bool(corrected),
        verified_on=iso(revisit["completed_on"]),
        evidence=revisit.get("notes"),
        verified_by={k: (str(v) if v is not None else None) for k, v in officer.items()},
        revisit_id=str(revisit["revisit_id"]),
    )


def _revisit_completed(deps: handlers.IntakeDeps, conn: Connection, event: ConsumedEvent) -> object:
    cmd = correction_check(event.data)
    return cmd is not None and handlers.correction_checked(deps, conn, cmd)


REACTIONS: EventHandlers[Reaction] = EventHandlers(
    {catalogue.REVISIT_COMPLETED: _revisit_completed},
    ignored=(
        catalogue.REVISIT_SCHEDULED,
        catalogue.REVISIT_OVERDUE,
        catalogue.REVISIT_CANCELLED,
        catalogue.REVISIT_RESCHEDULED,
        catalogue.REVISIT_DEADLINE_RECOMPUTED,
        catalogue.REMINDER_PLANNED,
        catalogue.REMINDER_PLAN_ACCEPTED,
        catalogue.REMINDER_PLAN_ADJUSTED,
        catalogue.REMINDER_PLAN_DISMISSED,
    ),
)


class IntakeProjection:
    """The consumer runner's projection of revisit.events: it reacts through the handlers and keeps no tables."""

    metadata = MetaData()

    def __init__(self, runtime: Runtime[handlers.IntakeDeps]) -> None:
        self.deps = runtime.deps

    def apply(self, conn: Connection, event: ConsumedEvent) -> None:
        reaction = REACTIONS.get(event.type)
        if reaction is not None:
            reaction(self.deps, conn, event)
