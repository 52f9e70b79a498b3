"""assessment.events: the year-end assessment (考核评比) of each department's guidance work."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from guidance_shared.events.common import IndicatorResult, Payload, Rubric, moment, not_before, optional_text, text
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
    rubric_config = fields.Dict(
        allow_none=True,
        load_default=None,
        metadata={"description": "完整评分方案（指标、分组、归一化、并列规则），期间内不变；为空时按当前配置"},
    )
    opened_at = moment("开启时间", required=True)

    @validates_schema
    def _ordered(self, data: Mapping[str, Any], **_: Any) -> None:
        if errors := not_before(data, "ends_on", "starts_on", "Must not be before starts_on. 统计区间有误。"):
            raise ValidationError(errors)


class CountedSources(Payload):
    """Which source events a scorecard version counted, as fingerprints: what tells a later version's new ones."""

    count = fields.Integer(required=True, validate=validate.Range(min=0), metadata={"description": "计入的来源事件数"})
    fingerprints = fields.String(
        required=True,
        validate=validate.Regexp(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"),
        metadata={"description": "每个来源事件编号（小写文本）SHA-256 的前8字节，排序后拼接，Base64 编码"},
    )

    @validates_schema
    def _eight_bytes_each(self, data: Mapping[str, Any], **_: Any) -> None:
        if len(data.get("fingerprints", "")) != 4 * -(-8 * data.get("count", 0) // 3):
            raise ValidationError({"fingerprints": ["Must hold 8 bytes per counted event. 指纹长度与计入数不符。"]})


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
    counted_sources = fields.Nested(
        CountedSources,
        allow_none=True,
        load_default=None,
        metadata={"description": "本版本计入的来源事件（指纹）；早于此字段发布的版本为空"},
    )


class ExternalEvaluationRecorded(Payload):
    """外部评议: a department's external evaluation score (座谈会, 测评卡, 执法监督员…) for the period."""

    period_id = fields.UUID(required=True)
    department_id = fields.UUID(required=True, metadata={"description": "参评机关编号"})
    score = fields.Float(
        required=True, validate=validate.Range(min=0, max=100), metadata={"description": "评议得分（百分制）"}
    )
    method = text(100, "评议方式，如测评卡、座谈会", required=True)
    note = optional_text(2000, "说明")
    recorded_at = moment("登记时间", required=True)


class RolloutDeliverableRecorded(Payload):
    """推行工作: a department filed a deliverable of the rollout programme (plan, working group, rules, training)."""

    period_id = fields.UUID(required=True)
    department_id = fields.UUID(required=True, metadata={"description": "参评机关编号"})
    deliverable = text(64, "事项编码，如 plan_filed、working_group_set_up、rules_adopted、training_held", required=True)
    done_on = fields.Date(required=True, metadata={"description": "完成日期"})
    evidence = text(1000, "佐证材料，如文件文号", required=True)
    recorded_at = moment("登记时间", required=True)


class ScorecardDifference(Payload):
    """One thing that changed between two versions of a scorecard."""

    field = text(80, "变化项，如 indicators.disclosure_on_time、score、rank", required=True)
    before = fields.Raw(allow_none=True, required=True, metadata={"description": "原值"})
    after = fields.Raw(allow_none=True, required=True, metadata={"description": "新值"})


class ScorecardRevised(ScorecardPublished):
    """A published scorecard changed because events arrived after publication: a new version, never silent."""

    version = fields.Integer(required=True, validate=validate.Range(min=2), metadata={"description": "记分卡版本"})
    differences = fields.List(
        fields.Nested(ScorecardDifference),
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "与上一版本的差异"},
    )
    new_source_event_ids = fields.List(
        fields.UUID(), load_default=list, metadata={"description": "上一版本之后新计入的事件编号"}
    )


EVENT_TYPES: tuple[EventType, ...] = (
    EventType("AssessmentPeriodOpened", 1, TOPIC, "AssessmentPeriod", AssessmentPeriodOpened, "period_id"),
    EventType("ScorecardPublished", 1, TOPIC, "Scorecard", ScorecardPublished, "scorecard_id"),
    EventType("ExternalEvaluationRecorded", 1, TOPIC, "AssessmentPeriod", ExternalEvaluationRecorded, "period_id"),
    EventType("RolloutDeliverableRecorded", 1, TOPIC, "AssessmentPeriod", RolloutDeliverableRecorded, "period_id"),
    EventType("ScorecardRevised", 1, TOPIC, "Scorecard", ScorecardRevised, "scorecard_id"),
)
