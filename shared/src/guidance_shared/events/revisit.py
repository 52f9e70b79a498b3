"""revisit.events: revisits of closed cases and corrections (回访), and reminders before peak periods."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from guidance_shared import vocabulary as v
from guidance_shared.events.common import (
    Findings,
    Officer,
    Payload,
    PeakPeriod,
    ReminderBasis,
    RequiredWhen,
    SpotDraw,
    code,
    estimated_flag,
    moment,
    optional_text,
    optional_uuid,
    text,
)
from guidance_shared.events.registry import EventType

TOPIC = "revisit.events"


class DeadlineBasis(Payload):
    """What a working-day due date was counted from, so it can be counted again on a newer calendar."""

    start_on = fields.Date(required=True, metadata={"description": "起算日（不计入）"})
    working_days = fields.Integer(required=True, validate=validate.Range(min=0), metadata={"description": "工作日数"})


def _department() -> fields.UUID:
    return fields.UUID(required=True, metadata={"description": "负责回访的机关编号"})


class RevisitScheduled(Payload):
    """A revisit is due; the case or guidance it follows is named so intake and assessment can link it."""

    revisit_id = fields.UUID(required=True)
    department_id = _department()
    case_id = optional_uuid("回访的案件编号")
    guidance_id = optional_uuid("核查的行政指导编号")
    kind = code(v.REVISIT_KINDS, "回访类型", required=True)
    due_on = fields.Date(required=True, metadata={"description": "应回访日期"})
    reason = text(1000, "回访原因", required=True)
    officer = fields.Nested(Officer, allow_none=True, load_default=None, metadata={"description": "负责回访的执法人员"})
    draw = fields.Nested(SpotDraw, allow_none=True, load_default=None, metadata={"description": "随机抽查的抽签记录"})
    scheduled_at = moment("安排时间", required=True)
    deadline_estimated = estimated_flag("应回访日期按预计的节假日安排计算（当年放假安排尚未公布）")
    deadline_basis = fields.Nested(
        DeadlineBasis,
        allow_none=True,
        load_default=None,
        metadata={"description": "按工作日计算的应回访日期的起算日和工作日数，放假安排公布后据此重算"},
    )

    rules = (
        RequiredWhen(
            None, (), (("case_id",), ("guidance_id",)), "Name a case_id or a guidance_id. 须关联案件或行政指导。"
        ),
        RequiredWhen("kind", ("case_revisit",), (("case_id",),), "A case revisit needs case_id. 案件回访须关联案件。"),
        RequiredWhen(
            "kind",
            ("correction_check",),
            (("guidance_id",),),
            "A correction check needs guidance_id. 整改核查须关联行政指导。",
        ),
    )


class RevisitCompleted(Payload):
    """What a revisit found; intake reads ``findings.corrected`` to close a correction."""

    revisit_id = fields.UUID(required=True)
    department_id = _department()
    case_id = optional_uuid("回访的案件编号")
    guidance_id = optional_uuid("核查的行政指导编号")
    completed_on = fields.Date(required=True, metadata={"description": "回访日期"})
    officers = fields.List(fields.Nested(Officer), required=True, validate=validate.Length(min=1))
    method = code(v.REVISIT_METHODS, "回访方式", required=True)
    findings = fields.Nested(Findings, required=True)
    notes = optional_text(5000, "回访记录")


class RevisitOverdue(Payload):
    """A revisit passed its due date undone; counted against the department."""

    revisit_id = fields.UUID(required=True)
    department_id = _department()
    due_on = fields.Date(required=True, metadata={"description": "应回访日期"})
    detected_at = moment("发现逾期的时间", required=True)


class RevisitCancelled(Payload):
    """A revisit will not happen, e.g. the decision was revoked or the business closed."""

    revisit_id = fields.UUID(required=True)
    department_id = _department()
    reason = text(1000, "取消理由", required=True)
    at = moment("取消时间", required=True)


class RevisitRescheduled(Payload):
    """A revisit moved to another date, with the reason kept for the ledger."""

    revisit_id = fields.UUID(required=True)
    department_id = _department()
    previous_due_on = fields.Date(required=True, metadata={"description": "原定日期"})
    due_on = fields.Date(required=True, metadata={"description": "新的应回访日期"})
    reason = text(1000, "调整理由", required=True)
    at = moment("调整时间", required=True)

    @validates_schema
    def _moved(self, data: Mapping[str, Any], **_: Any) -> None:
        if data["due_on"] == data["previous_due_on"]:
            raise ValidationError("Must differ from previous_due_on. 新日期与原定日期相同。", field_name="due_on")


class ReminderPlanned(Payload):
    """An enforcement reminder (执法事项提示) planned from case statistics before a peak period."""

    plan_id = fields.UUID(required=True)
    department_id = _department()
    violation_category = text(100, "违法行为类别", required=True)
    domain = code(v.DOMAINS, "执法领域", allow_none=True, load_default=None)
    peak_period = fields.Nested(PeakPeriod, required=True)
    notify_on = fields.Date(required=True, metadata={"description": "提示日期"})
    basis = fields.Nested(ReminderBasis, required=True)
    planned_at = moment("制定时间", required=True)

    @validates_schema
    def _before_peak(self, data: Mapping[str, Any], **_: Any) -> None:
        if data["notify_on"] > data["peak_period"]["from"]:
            raise ValidationError(
                "Must not be after the start of the peak period. 提示日期不得晚于高发期开始。", field_name="notify_on"
            )


class ReminderPlanAccepted(Payload):
    """A supervisor accepted a reminder plan as forecast: it joins the department's task list."""

    plan_id = fields.UUID(required=True)
    department_id = _department()
    accepted_by = fields.Nested(Officer, required=True, metadata={"description": "决定的负责人"})
    at = moment("决定时间", required=True)


class ReminderPlanAdjusted(Payload):
    """A supervisor accepted a reminder plan with another period or notice date; the reason is kept."""

    plan_id = fields.UUID(required=True)
    department_id = _department()
    peak_period = fields.Nested(PeakPeriod, required=True)
    notify_on = fields.Date(required=True, metadata={"description": "提示日期"})
    reason = text(1000, "调整理由", required=True)
    by = fields.Nested(Officer, required=True, metadata={"description": "决定的负责人"})
    at = moment("调整时间", required=True)

    @validates_schema
    def _before_peak(self, data: Mapping[str, Any], **_: Any) -> None:
        if data["notify_on"] > data["peak_period"]["from"]:
            raise ValidationError(
                "Must not be after the start of the peak period. 提示日期不得晚于高发期开始。", field_name="notify_on"
            )


class ReminderPlanDismissed(Payload):
    """A supervisor dismissed a reminder plan (e.g. the peak had a one-off cause); it is not planned again."""

    plan_id = fields.UUID(required=True)
    department_id = _department()
    reason = text(1000, "不予采纳的理由", required=True)
    by = fields.Nested(Officer, required=True, metadata={"description": "决定的负责人"})
    at = moment("决定时间", required=True)


class RevisitDeadlineRecomputed(Payload):
    """An open revisit's due date was counted again on a newer calendar: the year's holiday arrangement
    arrived (a newer chinesecalendar or the override file) after it was counted on the estimate."""

    revisit_id = fields.UUID(required=True)
    department_id = _department()
    previous_due_on = fields.Date(required=True, metadata={"description": "原应回访日期"})
    due_on = fields.Date(required=True, metadata={"description": "重新计算的应回访日期"})
    previously_estimated = fields.Boolean(required=True, metadata={"description": "原日期是否为预计"})
    deadline_estimated = fields.Boolean(required=True, metadata={"description": "新日期是否仍为预计"})
    calendar_version = text(200, "重新计算所用的工作日历版本", required=True)
    recomputed_at = moment("重新计算时间", required=True)


def _event(name: str, aggregate: str, schema: type[Payload], subject: str) -> EventType:
    return EventType(name, 1, TOPIC, aggregate, schema, subject_field=subject)


EVENT_TYPES: tuple[EventType, ...] = (
    _event("RevisitScheduled", "Revisit", RevisitScheduled, "revisit_id"),
    _event("RevisitCompleted", "Revisit", RevisitCompleted, "revisit_id"),
    _event("RevisitOverdue", "Revisit", RevisitOverdue, "revisit_id"),
    _event("RevisitCancelled", "Revisit", RevisitCancelled, "revisit_id"),
    _event("RevisitRescheduled", "Revisit", RevisitRescheduled, "revisit_id"),
    _event("RevisitDeadlineRecomputed", "Revisit", RevisitDeadlineRecomputed, "revisit_id"),
    _event("ReminderPlanned", "ReminderPlan", ReminderPlanned, "plan_id"),
    _event("ReminderPlanAccepted", "ReminderPlan", ReminderPlanAccepted, "plan_id"),
    _event("ReminderPlanAdjusted", "ReminderPlan", ReminderPlanAdjusted, "plan_id"),
    _event("ReminderPlanDismissed", "ReminderPlan", ReminderPlanDismissed, "plan_id"),
)
