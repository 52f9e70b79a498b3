"""The Revisit aggregate (回访): scheduled → (rescheduled)* → completed or cancelled; overdue is flagged once.

"Overdue exactly once" is a property of the aggregate: ``mark_overdue`` records RevisitOverdue
only while the revisit is open and not yet flagged, and the event store's expected-version
check makes two workers racing to flag it agree on one event.

A due date counted in working days on an estimated calendar (a year whose holiday arrangement is not
published yet) is flagged ``deadline_estimated``; ``recount`` counts it again on a newer calendar and
``recompute`` records the change. A date an officer chose (rescheduled) is never recounted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from guidance_revisit.domain.policy import Due, WorkingDaysBasis
from guidance_shared import catalogue
from guidance_shared.aggregate import Aggregate
from guidance_shared.dates import as_date
from guidance_shared.dispatch import EventHandlers
from guidance_shared.errors import FieldProblem, GuidanceError
from guidance_shared.workdays import WorkingCalendar

OPEN = ("scheduled", "overdue")


def _not_open(revisit_id: str, status: str) -> GuidanceError:
    return GuidanceError(
        code="revisit-not-open",
        title_en="Not allowed in the current state",
        title_zh="当前状态不允许此操作",
        status=409,
        detail_en=f"Revisit {revisit_id} is {status}.",
        detail_zh=f"回访 {revisit_id} 当前状态为 {status}。",
        fields=[
            FieldProblem("status", f"Revisit {revisit_id} is {status}.", f"回访 {revisit_id} 当前状态为 {status}。")
        ],
    )


@dataclass
class Revisit(Aggregate):
    revisit_id: str
    status: str = "new"
    details: Mapping[str, Any] = field(default_factory=dict)  # the RevisitScheduled data
    due_on: date | None = None
    overdue_flagged: bool = False
    outcome: Mapping[str, Any] = field(default_factory=dict)  # the RevisitCompleted or RevisitCancelled data
    deadline_estimated: bool = False
    basis: WorkingDaysBasis | None = None  # how due_on was counted, while it is the counted date

    @property
    def department_id(self) -> str:
        return str(self.details.get("department_id", ""))

    def schedule(self, data: Mapping[str, Any]) -> None:
        if self.status != "new":
            raise _not_open(self.revisit_id, self.status)
        self.record(catalogue.REVISIT_SCHEDULED, dict(data))

    def complete(self, data: Mapping[str, Any]) -> None:
        if self.status not in OPEN:
            raise _not_open(self.revisit_id, self.status)
        self.record(catalogue.REVISIT_COMPLETED, dict(data))

    def reschedule(self, data: Mapping[str, Any]) -> None:
        if self.status not in OPEN:
            raise _not_open(self.revisit_id, self.status)
        self.record(catalogue.REVISIT_RESCHEDULED, dict(data))

    def cancel(self, data: Mapping[str, Any]) -> None:
        if self.status not in OPEN:
            raise _not_open(self.revisit_id, self.status)
        self.record(catalogue.REVISIT_CANCELLED, dict(data))

    def is_overdue(self, today: date) -> bool:
        return (
            self.status == "scheduled" and not self.overdue_flagged and self.due_on is not None and self.due_on < today
        )

    def recount(self, calendar: WorkingCalendar) -> Due | None:
        """The due date counted again on ``calendar``; None unless it was an estimate of an open revisit and
        the count now differs (another date, or no longer an estimate)."""
        if self.status not in OPEN or not self.deadline_estimated or self.basis is None:
            return None
        due = self.basis.count(calendar)
        if due.on == self.due_on and due.estimated == self.deadline_estimated:
            return None
        return due

    def recompute(self, data: Mapping[str, Any]) -> None:
        if self.status not in OPEN:
            raise _not_open(self.revisit_id, self.status)
        self.record(catalogue.REVISIT_DEADLINE_RECOMPUTED, dict(data))

    def mark_overdue(self, data: Mapping[str, Any], today: date) -> bool:
        """Flag the revisit once when its due date has passed undone; False when there is nothing to flag."""
        if not self.is_overdue(today):
            return False
        self.record(catalogue.REVISIT_OVERDUE, dict(data))
        return True

    # -- how each event changes the revisit ------------------------------------------------------
    def _scheduled(self, data: Mapping[str, Any]) -> None:
        self.status, self.details, self.due_on = "scheduled", dict(data), as_date(data["due_on"])
        self.deadline_estimated = bool(data.get("deadline_estimated"))
        basis = data.get("deadline_basis")
        self.basis = WorkingDaysBasis(as_date(basis["start_on"]), int(basis["working_days"])) if basis else None

    def _rescheduled(self, data: Mapping[str, Any]) -> None:
        # A new date gives the revisit a fresh chance: it may become overdue again, once. The officer chose
        # it, so it is neither an estimate nor counted again.
        self.status, self.due_on, self.overdue_flagged = "scheduled", as_date(data["due_on"]), False
        self.deadline_estimated, self.basis = False, None

    def _deadline_recomputed(self, data: Mapping[str, Any]) -> None:
        # An overdue flag raised on the estimate stands: the revisit was not done by the date it was given.
        self.due_on, self.deadline_estimated = as_date(data["due_on"]), bool(data["deadline_estimated"])

    def _overdue(self, data: Mapping[str, Any]) -> None:
        self.status, self.overdue_flagged = "overdue", True

    def _completed(self, data: Mapping[str, Any]) -> None:
        self.status, self.outcome = "completed", dict(data)

    def _cancelled(self, data: Mapping[str, Any]) -> None:
        self.status, self.outcome = "cancelled", dict(data)

    appliers = EventHandlers(
        {
            catalogue.REVISIT_SCHEDULED: _scheduled,
            catalogue.REVISIT_RESCHEDULED: _rescheduled,
            catalogue.REVISIT_DEADLINE_RECOMPUTED: _deadline_recomputed,
            catalogue.REVISIT_OVERDUE: _overdue,
            catalogue.REVISIT_COMPLETED: _completed,
            catalogue.REVISIT_CANCELLED: _cancelled,
        }
    )
