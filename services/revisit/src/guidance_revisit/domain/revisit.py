"""The Revisit aggregate (回访): scheduled → (rescheduled)* → completed or cancelled; overdue is flagged once.

"Overdue exactly once" is a property of the aggregate: ``mark_overdue`` records RevisitOverdue
only while the revisit is open and not yet flagged, and the event store's expected-version
check makes two workers racing to flag it agree on one event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from guidance_shared.aggregate import Aggregate
from guidance_shared.errors import FieldProblem, GuidanceError

SCHEDULED = "guidance.RevisitScheduled.v1"
COMPLETED = "guidance.RevisitCompleted.v1"
OVERDUE = "guidance.RevisitOverdue.v1"
CANCELLED = "guidance.RevisitCancelled.v1"
RESCHEDULED = "guidance.RevisitRescheduled.v1"

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
    details: dict[str, Any] = field(default_factory=dict)
    due_on: date | None = None
    overdue_flagged: bool = False
    outcome: dict[str, Any] = field(default_factory=dict)

    @property
    def department_id(self) -> str:
        return str(self.details.get("department_id", ""))

    def schedule(self, data: dict[str, Any]) -> None:
        if self.status != "new":
            raise _not_open(self.revisit_id, self.status)
        self.record(SCHEDULED, data)

    def complete(self, data: dict[str, Any]) -> None:
        if self.status not in OPEN:
            raise _not_open(self.revisit_id, self.status)
        self.record(COMPLETED, data)

    def reschedule(self, data: dict[str, Any]) -> None:
        if self.status not in OPEN:
            raise _not_open(self.revisit_id, self.status)
        self.record(RESCHEDULED, data)

    def cancel(self, data: dict[str, Any]) -> None:
        if self.status not in OPEN:
            raise _not_open(self.revisit_id, self.status)
        self.record(CANCELLED, data)

    def is_overdue(self, today: date) -> bool:
        return (
            self.status == "scheduled" and not self.overdue_flagged and self.due_on is not None and self.due_on < today
        )

    def mark_overdue(self, data: dict[str, Any], today: date) -> bool:
        """Flag the revisit once when its due date has passed undone; False when there is nothing to flag."""
        if not self.is_overdue(today):
            return False
        self.record(OVERDUE, data)
        return True

    def _apply(self, event_type: str, data: dict[str, Any]) -> None:
        if event_type == SCHEDULED:
            self.status, self.details, self.due_on = "scheduled", dict(data), _date(data["due_on"])
        elif event_type == RESCHEDULED:
            # A new date gives the revisit a fresh chance: it may become overdue again, once.
            self.status, self.due_on, self.overdue_flagged = "scheduled", _date(data["due_on"]), False
        elif event_type == OVERDUE:
            self.status, self.overdue_flagged = "overdue", True
        elif event_type == COMPLETED:
            self.status, self.outcome = "completed", dict(data)
        elif event_type == CANCELLED:
            self.status, self.outcome = "cancelled", dict(data)


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
