"""The ReminderPlan aggregate: a forecast reminder (执法事项提示) awaiting a supervisor's decision.

planned → accepted (as forecast, or adjusted: accepted with another period or notice date) or
dismissed. The statistics only propose; a person decides, because a peak may have a one-off cause
(a crackdown, a festival moving) that the numbers cannot see. An accepted plan may still be
adjusted again or dismissed until it is issued through intake; a dismissed plan is final, and
since its id is derived from department, category and period, detection never plans it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from guidance_shared.aggregate import Aggregate
from guidance_shared.errors import FieldProblem, GuidanceError

PLANNED = "guidance.ReminderPlanned.v1"
ACCEPTED = "guidance.ReminderPlanAccepted.v1"
ADJUSTED = "guidance.ReminderPlanAdjusted.v1"
DISMISSED = "guidance.ReminderPlanDismissed.v1"

DECIDABLE = ("planned", "accepted")


def _not_allowed(plan_id: str, status: str) -> GuidanceError:
    return GuidanceError(
        code="reminder-plan-state",
        title_en="Not allowed in the current state",
        title_zh="当前状态不允许此操作",
        status=409,
        detail_en=f"Reminder plan {plan_id} is {status}.",
        detail_zh=f"执法事项提示计划 {plan_id} 当前状态为 {status}。",
        fields=[
            FieldProblem(
                "status", f"Reminder plan {plan_id} is {status}.", f"执法事项提示计划 {plan_id} 当前状态为 {status}。"
            )
        ],
    )


@dataclass
class ReminderPlan(Aggregate):
    plan_id: str
    status: str = "new"
    details: dict[str, Any] = field(default_factory=dict)
    period_from: date | None = None
    period_to: date | None = None
    notify_on: date | None = None
    adjusted: bool = False
    decision: dict[str, Any] = field(default_factory=dict)

    @property
    def department_id(self) -> str:
        return str(self.details.get("department_id", ""))

    @property
    def violation_category(self) -> str:
        return str(self.details.get("violation_category", ""))

    def plan(self, data: dict[str, Any]) -> None:
        if self.status != "new":
            raise _not_allowed(self.plan_id, self.status)
        self.record(PLANNED, data)

    def accept(self, data: dict[str, Any]) -> None:
        """Only a plan still awaiting a decision is accepted; accepting twice is a conflict, not a no-op."""
        if self.status != "planned":
            raise _not_allowed(self.plan_id, self.status)
        self.record(ACCEPTED, data)

    def adjust(self, data: dict[str, Any]) -> None:
        if self.status not in DECIDABLE:
            raise _not_allowed(self.plan_id, self.status)
        period = data["peak_period"]
        if (_date(period["from"]), _date(period["to"]), _date(data["notify_on"])) == (
            self.period_from,
            self.period_to,
            self.notify_on,
        ):
            raise GuidanceError(
                code="validation-failed",
                title_en="Validation failed",
                title_zh="校验未通过",
                status=422,
                detail_en="An adjustment must change the period or the notice date.",
                detail_zh="调整须改变高发期或提示日期。",
                fields=[
                    FieldProblem(
                        "notify_on",
                        "Nothing changed: give another period or notice date.",
                        "未作调整：请修改高发期或提示日期。",
                    )
                ],
            )
        self.record(ADJUSTED, data)

    def dismiss(self, data: dict[str, Any]) -> None:
        if self.status not in DECIDABLE:
            raise _not_allowed(self.plan_id, self.status)
        self.record(DISMISSED, data)

    def _apply(self, event_type: str, data: dict[str, Any]) -> None:
        if event_type == PLANNED:
            self.status, self.details = "planned", dict(data)
            self._dates(data)
        elif event_type == ACCEPTED:
            self.status, self.decision = "accepted", dict(data)
        elif event_type == ADJUSTED:
            self.status, self.adjusted, self.decision = "accepted", True, dict(data)
            self._dates(data)
        elif event_type == DISMISSED:
            self.status, self.decision = "dismissed", dict(data)

    def _dates(self, data: dict[str, Any]) -> None:
        period = data["peak_period"]
        self.period_from, self.period_to = _date(period["from"]), _date(period["to"])
        self.notify_on = _date(data["notify_on"])


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
