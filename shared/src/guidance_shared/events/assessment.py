"""assessment.events: the year-end assessment (考核评比) of each department's guidance work."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from guidance_shared.events.common import IndicatorResult, Payload, Rubric, moment, not_before, optional_text
from guidance_shared.events.registry import EventType

TOPIC = "assessment.events"


class AssessmentPeriodOpened(Payload):
    """A period is open for scoring, under a rubric fixed for its whole life."""

    period_id = fields.UUID(required=True)
    year = fields.Integer(
        required=True, validate=validate.Range(min=2000, max=2100), metadata={"description": "考核年度"}
    )
    starts_on = fields.Date(required=True, metadata={"description": "统计起始日"})
    ends_on = fields.Date(required=True, metadata={"description": "统计截止日"})
    rubric = fields.Nested(Rubric, required=True)
    department_ids = fields.List(
        fields.UUID(), load_default=list, metadata={"description": "参评机关编号；为空表示全部"}
    )
    opened_at = moment("开启时间", required=True)

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if errors := not_before(data, "ends_on", "starts_on", "Must not be before starts_on. 统计区间有误。"):
            raise ValidationError(errors)


class ScorecardPublished(Payload):
    """A department's score and rank for a period, with every indicator that produced it."""

    scorecard_id = fields.UUID(required=True)
    period_id = fields.UUID(required=True)
    department_id = fields.UUID(required=True, metadata={"description": "参评机关编号"})
    indicators = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=64)),
        values=fields.Nested(IndicatorResult),
        required=True,
        metadata={"description": "各项指标，键为评分方案中的指标编码"},
    )
    score = fields.Float(required=True, validate=validate.Range(min=0, max=100), metadata={"description": "总分"})
    rank = fields.Integer(required=True, validate=validate.Range(min=1), metadata={"description": "排名"})
    rubric_version = optional_text(40, "所用评分方案版本")
    published_at = moment("发布时间", required=True)


EVENT_TYPES: tuple[EventType, ...] = (
    EventType("AssessmentPeriodOpened", 1, TOPIC, "AssessmentPeriod", AssessmentPeriodOpened, "period_id"),
    EventType("ScorecardPublished", 1, TOPIC, "Scorecard", ScorecardPublished, "scorecard_id"),
)
