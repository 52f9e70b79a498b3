"""The ReminderPlan aggregate: a forecast reminder (执法事项提示) awaiting a supervisor's decision.

planned → accepted (as forecast, or adjusted: accepted with another period or notice date) or
dismissed. The statistics only propose; a person decides, because a peak may have a one-off cause
(a crackdown, a festival moving) that the numbers cannot see. An accepted plan may still be
adjusted again or dismissed until it is issued through intake; a dismissed plan is final, and
since its id is derived from department, category and period, detection never plans it again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from guidance_shared import catalogue
from guidance_shared.aggregate import Aggregate
from guidance_shared.dates import as_date
from guidance_shared.dispatch import EventHandlers
from guidance_shared.errors import FieldProblem, GuidanceError

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
    details: Mapping[str, Any] = field(default_factory=dict)  # the ReminderPlanned data
    period_from: date | None = None
    period_to: date | None = None
    notify_on: date | None = None
    adjusted: bool = False
    decision: Mapping[str, Any] = field(default_factory=dict)  # the latest decision's data

    @property
    def department_id(self) -> str:
        return str(self.details.get("department_id", ""))

    @property
    def violation_category(self) -> str:
        return str(self.details.get("violation_category", ""))

    def plan(self, data: Mapping[str, Any]) -> None:
        if self.status != "new":
            raise _not_allowed(self.plan_id, self.status)
        self.record(catalogue.REMINDER_PLANNED, dict(data))

    def accept(self, data: Mapping[str, Any]) -> None:
        """Only a plan still awaiting a decision is accepted; accepting twice is a conflict, not a no-op."""
        if self.status != "planned":
            raise _not_allowed(self.plan_id, self.status)
        self.record(catalogue.REMINDER_PLAN_ACCEPTED, dict(data))

    def adjust(self, data: Mapping[str, Any]) -> None:
        if self.status not in DECIDABLE:
            raise _not_allowed(self.plan_id, self.status)
        period = data["peak_period"]
        if (as_date(period["from"]), as_date(period["to"]), as_date(data["notify_on"])) == (
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
        self.record(catalogue.REMINDER_PLAN_ADJUSTED, dict(data))

    def dismiss(self, data: Mapping[str, Any]) -> None:
        if self.status not in DECIDABLE:
            raise _not_allowed(self.plan_id, self.status)
        self.record(catalogue.REMINDER_PLAN_DISMISSED, dict(data))

    # -- how each event changes the plan ------------------------------------------------------------
    def _planned(self, data: Mapping[str, Any]) -> None:
        self.status, self.details = "planned", dict(data)
        self._dates(data)

    def _accepted(self, data: Mapping[str, Any]) -> None:
        self.status, self.decision = "accepted", dict(data)

    def _adjusted(self, data: Mapping[str, Any]) -> None:
        self.status, self.adjusted, self.decision = "accepted", True, dict(data)
        self._dates(data)

    def _dismissed(self, data: Mapping[str, Any]) -> None:
        self.status, self.decision = "dismissed", dict(data)

    def _dates(self, data: Mapping[str, Any]) -> None:
        period = data["peak_period"]
        self.period_from, self.period_to = as_date(period["from"]), as_date(period["to"])
        self.notify_on = as_date(data["notify_on"])

    appliers = EventHandlers(
        {
            catalogue.REMINDER_PLANNED: _planned,
            catalogue.REMINDER_PLAN_ACCEPTED: _accepted,
            catalogue.REMINDER_PLAN_ADJUSTED: _adjusted,
            catalogue.REMINDER_PLAN_DISMISSED: _dismissed,
        }
    )
