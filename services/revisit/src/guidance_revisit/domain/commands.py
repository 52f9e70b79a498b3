"""What a caller asks of revisit, as typed values built once from a validated request.

The HTTP layer loads a body with its marshmallow schema (the wire contract) and builds one of
these; handlers take them and build the event data, which the event contract validates again
(the producer's check).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from guidance_shared.officers import Officer


@dataclass(frozen=True)
class Findings:
    """What a revisit found; ``corrected`` is None when nothing had to be corrected."""

    conduct_ok: bool
    rights_explained: bool
    needs_guidance: bool
    corrected: bool | None = None

    def as_data(self) -> dict[str, bool | None]:
        return {
            "corrected": self.corrected,
            "conduct_ok": self.conduct_ok,
            "rights_explained": self.rights_explained,
            "needs_guidance": self.needs_guidance,
        }


@dataclass(frozen=True)
class Period:
    """A violation-prone period (高发期), both days included."""

    start: date
    end: date

    def as_data(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


# -- revisits ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CompleteRevisit:
    revisit_id: str
    completed_on: date
    officers: tuple[Officer, ...]
    method: str
    findings: Findings
    notes: str | None = None


@dataclass(frozen=True)
class RescheduleRevisit:
    revisit_id: str
    due_on: date
    reason: str


@dataclass(frozen=True)
class CancelRevisit:
    revisit_id: str
    reason: str


# -- reminder plans -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class AcceptReminderPlan:
    plan_id: str
    accepted_by: Officer


@dataclass(frozen=True)
class AdjustReminderPlan:
    plan_id: str
    peak_period: Period
    notify_on: date
    reason: str
    by: Officer


@dataclass(frozen=True)
class DismissReminderPlan:
    plan_id: str
    reason: str
    by: Officer
