"""disclosure.events: what was published, withheld, withdrawn or late (公开), and requests for disclosure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from guidance_shared import vocabulary as v
from guidance_shared.events.common import (
    LegalBasis,
    Officer,
    Payload,
    Redaction,
    RequiredWhen,
    SealedCounterpart,
    code,
    estimated_flag,
    legal_bases,
    moment,
    not_before,
    optional_text,
    optional_uuid,
    text,
)
from guidance_shared.events.registry import EventType

TOPIC = "disclosure.events"

#: At most 20 more working days, with approval (政府信息公开条例第三十三条).
MAX_EXTENSION_WORKING_DAYS = 20


class ReviewFlag(Payload):
    """One reason a rule gives for a human look before publication, with the exemption it may point to."""

    rule = text(64, "规则编码", required=True)
    label = text(200, "规则说明", required=True)
    exemption = code(v.EXEMPTIONS, "可能适用的不予公开理由", allow_none=True, load_default=None)


def _department() -> fields.UUID:
    return fields.UUID(required=True, metadata={"description": "公开义务机关编号"})


def _source_event() -> fields.UUID:
    return fields.UUID(required=True, metadata={"description": "引起本事件的上游事件编号（ce_id）"})


class ItemDisclosed(Payload):
    """An item went public; ``disclosed_at`` against ``deadline`` is what the assessment scores."""

    item_id = fields.UUID(required=True)
    department_id = _department()
    source_event_id = _source_event()
    subject_id = fields.UUID(required=True, metadata={"description": "所公开的行政指导、案件或回访编号"})
    kind = code(v.DISCLOSURE_KINDS, "公开事项类别", required=True)
    title = text(300, "公开标题", required=True)
    deadline = fields.Date(required=True, metadata={"description": "法定公开期限"})
    disclosed_at = moment("公开时间", required=True)
    url = fields.Url(required=True, schemes={"http", "https"}, metadata={"description": "公开网址"})
    redactions = fields.List(fields.Nested(Redaction), load_default=list, metadata={"description": "脱敏处理"})
    display_until = fields.Date(
        allow_none=True, load_default=None, metadata={"description": "公示期满日（处罚决定公示期限）"}
    )
    reviewed_by = fields.Nested(
        Officer, allow_none=True, load_default=None, metadata={"description": "审核后公开的审核人员（自动公开时为空）"}
    )
    review_note = optional_text(1000, "审核意见")
    deadline_estimated = estimated_flag("公开期限按预计的节假日安排计算（当年放假安排尚未公布）")

    @validates_schema
    def _display_period(self, data: Mapping[str, Any], **_: Any) -> None:
        if errors := not_before(
            data, "display_until", "disclosed_at", "Must not end before it was disclosed. 公示期限有误。"
        ):
            raise ValidationError(errors)


class DisclosureReviewRequested(Payload):
    """A rule flagged an item as possibly sensitive: it waits for a reviewer, who publishes or withholds it.

    The publication deadline keeps running while it waits; ``DisclosureOverdue`` follows if it passes.
    """

    item_id = fields.UUID(required=True)
    department_id = _department()
    source_event_id = _source_event()
    subject_id = fields.UUID(required=True, metadata={"description": "待审核的行政指导、案件或回访编号"})
    kind = code(v.DISCLOSURE_KINDS, "公开事项类别", required=True)
    title = text(300, "公开标题（已脱敏）", required=True)
    deadline = fields.Date(required=True, metadata={"description": "法定公开期限"})
    flags = fields.List(
        fields.Nested(ReviewFlag),
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "触发审核的规则"},
    )
    requested_at = moment("提交审核时间", required=True)
    deadline_estimated = estimated_flag("公开期限按预计的节假日安排计算（当年放假安排尚未公布）")


class DisclosureWithheld(Payload):
    """An item is not published, with its exemption and legal basis recorded (条例第十四至十六条)."""

    item_id = fields.UUID(required=True)
    department_id = _department()
    source_event_id = _source_event()
    subject_id = fields.UUID(required=True, metadata={"description": "不予公开的行政指导、案件或回访编号"})
    kind = code(v.DISCLOSURE_KINDS, "公开事项类别", required=True)
    exemption = code(v.EXEMPTIONS, "不予公开理由", required=True)
    legal_basis = legal_bases(required=True)
    reason = optional_text(2000, "说明")
    decided_by = fields.Nested(Officer, required=True)
    decided_at = moment("决定时间", required=True)
    deadline = fields.Date(
        allow_none=True,
        load_default=None,
        metadata={"description": "法定公开期限（首次即不予公开的事项：其期限，供读模型从事件重建）"},
    )


class DisclosureWithdrawn(Payload):
    """A publication was taken down, e.g. within 3 days of a revoked decision (行政处罚法第四十八条)."""

    item_id = fields.UUID(required=True)
    department_id = _department()
    source_event_id = optional_uuid("引起撤下的上游事件编号，如 CaseDecisionRevoked")
    reason = text(1000, "撤下理由", required=True)
    deadline = fields.Date(allow_none=True, load_default=None, metadata={"description": "应撤下期限"})
    at = moment("撤下时间", required=True)


class DisclosureOverdue(Payload):
    """An item passed its publication deadline unpublished."""

    item_id = fields.UUID(required=True)
    department_id = _department()
    source_event_id = _source_event()
    kind = code(v.DISCLOSURE_KINDS, "公开事项类别", required=True)
    deadline = fields.Date(required=True, metadata={"description": "法定公开期限"})
    detected_at = moment("发现逾期的时间", required=True)


class DisclosureRequestReceived(Payload):
    """A request for disclosure (依申请公开) arrived; the answer clock starts on ``received_on``.

    An applicant who is a natural person (or an individual business) has their personal fields sealed under their
    key from intake's key API and their pseudonym beside them, as intake's counterparts (docs/personal-data.md §6);
    a request recorded before disclosure sealed holds them in clear.
    """

    request_id = fields.UUID(required=True)
    department_id = _department()
    applicant = fields.Nested(SealedCounterpart, required=True)
    description = text(5000, "所需信息的名称、文号或者便于查询的其他特征描述", required=True)
    channel = code(v.REQUEST_CHANNELS, "申请渠道", required=True)
    received_on = fields.Date(required=True, metadata={"description": "收到申请之日"})
    answer_due_on = fields.Date(required=True, metadata={"description": "答复期限（20个工作日）"})
    received_at = moment("登记时间", required=True)
    deadline_estimated = estimated_flag("答复期限按预计的节假日安排计算（当年放假安排尚未公布）")

    @validates_schema
    def _due_after_receipt(self, data: Mapping[str, Any], **_: Any) -> None:
        if errors := not_before(data, "answer_due_on", "received_on", "Must not be before received_on. 答复期限有误。"):
            raise ValidationError(errors)


class DisclosureRequestAnswered(Payload):
    """A request was answered (条例第三十六条); withholding names its exemption and basis."""

    request_id = fields.UUID(required=True)
    department_id = _department()
    answer = code(v.REQUEST_ANSWERS, "答复类型", required=True)
    exemption = code(v.EXEMPTIONS, "不予公开理由", allow_none=True, load_default=None)
    legal_basis = fields.List(fields.Nested(LegalBasis), load_default=list, metadata={"description": "法律依据"})
    reply_doc_no = optional_text(64, "答复书文号")
    answered_on = fields.Date(required=True, metadata={"description": "答复日期"})
    answered_at = moment("登记时间", required=True)
    answer_due_on = fields.Date(
        allow_none=True, load_default=None, metadata={"description": "答复时的答复期限（旧事件无此字段）"}
    )
    late = fields.Boolean(
        allow_none=True, load_default=None, metadata={"description": "逾期答复：答复日期晚于答复期限（旧事件无此字段）"}
    )
    working_days_late = fields.Integer(
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=0),
        metadata={"description": "答复期限后至答复之日（含）的工作日数"},
    )

    rules = (
        RequiredWhen(
            "answer",
            ("withheld", "partially_disclosed"),
            (("exemption",),),
            "Withholding needs an exemption. 不予公开或部分公开须说明理由。",
        ),
    )


class DisclosureRequestExtended(Payload):
    """The answer period was extended with approval, at most 20 working days (条例第三十三条)."""

    request_id = fields.UUID(required=True)
    department_id = _department()
    extension_working_days = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=MAX_EXTENSION_WORKING_DAYS),
        metadata={"description": "延长的工作日数"},
    )
    answer_due_on = fields.Date(required=True, metadata={"description": "延长后的答复期限"})
    approved_by = fields.Nested(Officer, required=True)
    reason = text(1000, "延长理由", required=True)
    extended_at = moment("延长时间", required=True)
    approved_on = fields.Date(
        allow_none=True,
        load_default=None,
        metadata={"description": "批准延长之日，不晚于原答复期限（登记可在其后；旧事件无此字段）"},
    )
    deadline_estimated = estimated_flag("答复期限按预计的节假日安排计算（当年放假安排尚未公布）")


#: The one-time notice to complete a request (补正) goes out within 7 working days (条例第三十条).
SUPPLEMENT_NOTICE_WORKING_DAYS = 7


class DisclosureRequestSupplementRequested(Payload):
    """The one-time notice to complete a request (补正, 条例第三十条); the answer clock stops until it is met."""

    request_id = fields.UUID(required=True)
    department_id = _department()
    items = text(2000, "需要补正的事项", required=True)
    notice_on = fields.Date(required=True, metadata={"description": "发出补正通知之日"})
    notice_due_on = fields.Date(required=True, metadata={"description": "补正通知期限（收到申请之日起7个工作日）"})
    supplement_by = fields.Date(allow_none=True, load_default=None, metadata={"description": "申请人补正的合理期限"})
    notified_by = fields.Nested(Officer, required=True)
    requested_at = moment("登记时间", required=True)

    @validates_schema
    def _within_seven_days(self, data: Mapping[str, Any], **_: Any) -> None:
        errors = not_before(
            data, "notice_due_on", "notice_on", "Must be within 7 working days of receipt. 补正通知已超过期限。"
        ) or not_before(data, "supplement_by", "notice_on", "Must not be before notice_on. 补正期限有误。")
        if errors:
            raise ValidationError(errors)


class DisclosureRequestSupplemented(Payload):
    """The applicant completed the request; the answer period restarts from ``supplemented_on``."""

    request_id = fields.UUID(required=True)
    department_id = _department()
    supplemented_on = fields.Date(required=True, metadata={"description": "收到补正之日"})
    answer_due_on = fields.Date(required=True, metadata={"description": "重新起算的答复期限（20个工作日）"})
    recorded_at = moment("登记时间", required=True)
    deadline_estimated = estimated_flag("答复期限按预计的节假日安排计算（当年放假安排尚未公布）")

    @validates_schema
    def _due_after_supplement(self, data: Mapping[str, Any], **_: Any) -> None:
        if errors := not_before(
            data, "answer_due_on", "supplemented_on", "Must not be before supplemented_on. 答复期限有误。"
        ):
            raise ValidationError(errors)


class DisclosureRequestConsultationStarted(Payload):
    """A third party is consulted (征求第三方意见, 条例第三十二条); its time is not counted in the answer period."""

    request_id = fields.UUID(required=True)
    department_id = _department()
    reason = text(1000, "征求意见的理由（不含第三方个人信息）", required=True)
    started_on = fields.Date(required=True, metadata={"description": "书面征求意见之日"})
    reply_due_on = fields.Date(required=True, metadata={"description": "第三方答复期限（15个工作日）"})
    started_at = moment("登记时间", required=True)


class DisclosureRequestConsultationEnded(Payload):
    """The consultation ended; the answer period moves by the working days it took."""

    request_id = fields.UUID(required=True)
    department_id = _department()
    ended_on = fields.Date(required=True, metadata={"description": "征求意见结束之日"})
    paused_working_days = fields.Integer(
        required=True, validate=validate.Range(min=0), metadata={"description": "不计入答复期限的工作日数"}
    )
    answer_due_on = fields.Date(required=True, metadata={"description": "顺延后的答复期限"})
    ended_at = moment("登记时间", required=True)
    deadline_estimated = estimated_flag("答复期限按预计的节假日安排计算（当年放假安排尚未公布）")


class DisclosureRequestOverdue(Payload):
    """A request passed its answer deadline unanswered; flagged once."""

    request_id = fields.UUID(required=True)
    department_id = _department()
    answer_due_on = fields.Date(required=True, metadata={"description": "答复期限"})
    detected_at = moment("发现逾期的时间", required=True)


class DisclosureDeadlineRecomputed(Payload):
    """An item waiting for a reviewer had its publication deadline counted again on a newer calendar: the
    year's holiday arrangement arrived (a newer chinesecalendar or the override file) after it was estimated."""

    item_id = fields.UUID(required=True)
    department_id = _department()
    kind = code(v.DISCLOSURE_KINDS, "公开事项类别", required=True)
    previous_deadline = fields.Date(required=True, metadata={"description": "原法定公开期限"})
    deadline = fields.Date(required=True, metadata={"description": "重新计算的法定公开期限"})
    previously_estimated = fields.Boolean(required=True, metadata={"description": "原期限是否为预计"})
    deadline_estimated = fields.Boolean(required=True, metadata={"description": "新期限是否仍为预计"})
    calendar_version = text(200, "重新计算所用的工作日历版本", required=True)
    recomputed_at = moment("重新计算时间", required=True)


class DisclosureRequestDeadlineRecomputed(Payload):
    """An open request's answer due date was counted again on a newer calendar: the year's holiday
    arrangement arrived (a newer chinesecalendar or the override file) after it was counted on the estimate."""

    request_id = fields.UUID(required=True)
    department_id = _department()
    previous_answer_due_on = fields.Date(required=True, metadata={"description": "原答复期限"})
    answer_due_on = fields.Date(required=True, metadata={"description": "重新计算的答复期限"})
    previously_estimated = fields.Boolean(required=True, metadata={"description": "原期限是否为预计"})
    deadline_estimated = fields.Boolean(required=True, metadata={"description": "新期限是否仍为预计"})
    calendar_version = text(200, "重新计算所用的工作日历版本", required=True)
    recomputed_at = moment("重新计算时间", required=True)


def _event(name: str, aggregate: str, schema: type[Payload], subject: str) -> EventType:
    return EventType(name, 1, TOPIC, aggregate, schema, subject_field=subject)


EVENT_TYPES: tuple[EventType, ...] = (
    _event("ItemDisclosed", "Disclosure", ItemDisclosed, "item_id"),
    _event("DisclosureReviewRequested", "Disclosure", DisclosureReviewRequested, "item_id"),
    _event("DisclosureWithheld", "Disclosure", DisclosureWithheld, "item_id"),
    _event("DisclosureWithdrawn", "Disclosure", DisclosureWithdrawn, "item_id"),
    _event("DisclosureOverdue", "Disclosure", DisclosureOverdue, "item_id"),
    _event("DisclosureDeadlineRecomputed", "Disclosure", DisclosureDeadlineRecomputed, "item_id"),
    _event("DisclosureRequestReceived", "DisclosureRequest", DisclosureRequestReceived, "request_id"),
    _event("DisclosureRequestAnswered", "DisclosureRequest", DisclosureRequestAnswered, "request_id"),
    _event("DisclosureRequestExtended", "DisclosureRequest", DisclosureRequestExtended, "request_id"),
    _event(
        "DisclosureRequestSupplementRequested", "DisclosureRequest", DisclosureRequestSupplementRequested, "request_id"
    ),
    _event("DisclosureRequestSupplemented", "DisclosureRequest", DisclosureRequestSupplemented, "request_id"),
    _event(
        "DisclosureRequestConsultationStarted", "DisclosureRequest", DisclosureRequestConsultationStarted, "request_id"
    ),
    _event("DisclosureRequestConsultationEnded", "DisclosureRequest", DisclosureRequestConsultationEnded, "request_id"),
    _event("DisclosureRequestOverdue", "DisclosureRequest", DisclosureRequestOverdue, "request_id"),
    _event(
        "DisclosureRequestDeadlineRecomputed", "DisclosureRequest", DisclosureRequestDeadlineRecomputed, "request_id"
    ),
)
