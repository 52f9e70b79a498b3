"""intake.events: guidance acts (行政指导) and enforcement cases, as intake accepted them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from guidance_shared import vocabulary as v
from guidance_shared.events.common import (
    USCC_PATTERN,
    Circumstances,
    CoerciveMeasure,
    DisclosureDecision,
    LegalReview,
    NullUnless,
    Officer,
    OneOfWhen,
    Payload,
    Penalty,
    ReminderTarget,
    RequiredWhen,
    SealedCounterpart,
    SealedInterview,
    Violation,
    code,
    codes,
    legal_bases,
    moment,
    not_before,
    optional_text,
    optional_uuid,
    text,
)
from guidance_shared.events.registry import EventType

TOPIC = "intake.events"


def _department() -> fields.UUID:
    return fields.UUID(required=True, metadata={"description": "实施机关编号"})


def _department_name() -> fields.String:
    return optional_text(200, "实施机关名称（作出时的全称，公开和双公示使用）")


def _department_uscc() -> fields.String:
    return fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.Regexp(USCC_PATTERN, error="Not a 统一社会信用代码 (18 characters, GB 32100-2015)."),
        metadata={"description": "实施机关统一社会信用代码（双公示 CF_CFJGDM）"},
    )


def _backdated() -> fields.Boolean:
    return fields.Boolean(
        metadata={"description": "补录：登记晚于所记日期超过设定天数时为 true（按时登记时不出现）"},
    )


def _recorded_at() -> fields.AwareDateTime:
    return moment("补录的登记时间（仅补录时出现）")


class GuidanceIssued(Payload):
    """A guidance act was issued: the record every later fact about it refers to."""

    guidance_id = fields.UUID(required=True)
    doc_no = text(64, "文书统一编号（文号），如某市监指〔2025〕第001号", required=True)
    department_id = _department()
    department_name = _department_name()
    department_uscc = _department_uscc()
    officers = fields.List(fields.Nested(Officer), required=True, validate=validate.Length(min=1))
    counterpart = fields.Nested(SealedCounterpart, required=True)
    content_type = code(v.CONTENT_TYPES, "指导内容", required=True)
    methods = codes(v.METHODS, "指导方式", required=True)
    domain = code(v.DOMAINS, "执法领域", required=True)
    form = code(v.FORMS, "指导形式", required=True)
    initiated = code(v.INITIATED, "启动方式", required=True)
    applied_at = moment("相对人申请时间（依申请时必填）", allow_none=True, load_default=None)
    written_requested = fields.Boolean(
        load_default=False, metadata={"description": "相对人是否要求书面指导（要求时须书面作出）"}
    )
    matter = text(200, "指导事项", required=True)
    legal_basis = legal_bases(required=True)
    content = text(20000, "指导内容", required=True)
    rights_notice = text(2000, "权利告知（知情权、参与权、救济权）", required=True)
    correction_deadline = fields.Date(
        allow_none=True, load_default=None, metadata={"description": "改正期限（警示和纠错必填）"}
    )
    related_case_id = optional_uuid("关联案件编号")
    interview = fields.Nested(
        SealedInterview, allow_none=True, load_default=None, metadata={"description": "约谈（行政监管劝勉）"}
    )
    reminder = fields.Nested(
        ReminderTarget, allow_none=True, load_default=None, metadata={"description": "提示的违法类别和易发时段"}
    )
    advice = optional_text(5000, "服务发展建议内容")
    identifier_override_reason = optional_text(
        500, "统一社会信用代码校验未通过或身份证号码出生日期早于1900年仍予登记的理由"
    )
    disclosure = fields.Nested(DisclosureDecision, required=True)
    issued_at = moment("作出时间", required=True)
    backdated = _backdated()
    recorded_at = _recorded_at()

    rules = (
        RequiredWhen(
            "content_type",
            v.CORRECTION_CONTENT_TYPES,
            (("correction_deadline",),),
            "Required for minor_issue_warning and violation_correction. 轻微问题警示和违法行为纠错须规定改正期限。",
        ),
        RequiredWhen(
            "content_type",
            ("violation_correction", "major_case_revisit"),
            (("related_case_id",),),
            "Required for violation_correction and major_case_revisit. 违法行为纠错和重大案件回访须关联案件。",
        ),
        RequiredWhen(
            "content_type",
            ("supervisory_admonition",),
            (("interview",),),
            "Required for supervisory_admonition: time, place, who is summoned, rectification items. "
            "行政监管劝勉须记录约谈时间、地点、被约谈人和整改事项。",
        ),
        RequiredWhen(
            "content_type",
            ("enforcement_reminder",),
            (("reminder",),),
            "Required for enforcement_reminder: the violation category and the period. "
            "执法事项提示须写明违法类别和时段。",
        ),
        RequiredWhen(
            "content_type",
            ("development_advice",),
            (("advice",),),
            "Required for development_advice. 服务发展建议须写明建议内容。",
        ),
        RequiredWhen(
            "initiated",
            ("on_application",),
            (("applied_at",),),
            "Required when on_application. 依申请指导须记录申请时间。",
        ),
        OneOfWhen(
            "written_requested",
            (True,),
            "form",
            ("written",),
            "Must be written when written_requested. "
            "相对人要求书面指导的，应当书面作出（湖南省行政程序规定第一百零三条）。",
        ),
    )

    @validates_schema
    def _dates(self, data: Mapping[str, Any], **_: Any) -> None:
        errors = not_before(
            data, "correction_deadline", "issued_at", "Must not be before the issue date. 改正期限不得早于作出日期。"
        )
        errors |= not_before(
            data, "issued_at", "applied_at", "Must not be before applied_at. 作出时间不得早于申请时间。"
        )
        if errors:
            raise ValidationError(errors)


class GuidanceResponded(Payload):
    """The counterpart's answer (自愿原则); a decline is recorded, never punished."""

    guidance_id = fields.UUID(required=True)
    department_id = _department()
    response = code(v.RESPONSES, "回应", required=True)
    statement = optional_text(2000, "相对人陈述")
    responded_at = moment("回应或记录时间", required=True)


class CorrectionVerified(Payload):
    """Whether the counterpart corrected by the deadline; feeds revisits and the assessment."""

    guidance_id = fields.UUID(required=True)
    department_id = _department()
    corrected = fields.Boolean(required=True, metadata={"description": "是否已改正"})
    verified_on = fields.Date(required=True, metadata={"description": "核查日期"})
    evidence = optional_text(2000, "核查证据")
    verified_by = fields.Nested(Officer, required=True)
    revisit_id = optional_uuid("据以核查的回访编号")


class _GuidanceEnded(Payload):
    guidance_id = fields.UUID(required=True)
    department_id = _department()
    reason = text(1000, "理由", required=True)
    at = moment("时间", required=True)


class GuidanceSuspended(_GuidanceEnded):
    """A guidance act was paused, e.g. while an objection is heard."""


class GuidanceWithdrawn(_GuidanceEnded):
    """A guidance act was withdrawn; disclosure takes it down and the assessment stops counting it."""


class CaseOpened(Payload):
    """An enforcement case (立案) was opened; revisits and disclosures hang off it."""

    case_id = fields.UUID(required=True)
    case_no = text(64, "案件编号", required=True)
    department_id = _department()
    department_name = _department_name()
    department_uscc = _department_uscc()
    counterpart = fields.Nested(SealedCounterpart, required=True)
    domain = code(v.DOMAINS, "执法领域", required=True)
    procedure = code(v.PROCEDURES, "程序", required=True)
    violation = fields.Nested(Violation, required=True)
    major = fields.Boolean(required=True, metadata={"description": "是否重大案件"})
    officers = fields.List(fields.Nested(Officer), load_default=list, metadata={"description": "承办人员"})
    identifier_override_reason = optional_text(
        500, "统一社会信用代码校验未通过或身份证号码出生日期早于1900年仍予立案的理由"
    )
    opened_at = moment("立案时间", required=True)
    backdated = _backdated()
    recorded_at = _recorded_at()


class CaseDecided(Payload):
    """The decision of a case; the no-penalty outcomes of 行政处罚法第三十三条 are decisions too."""

    case_id = fields.UUID(required=True)
    department_id = _department()
    decision_no = text(64, "决定书文号", required=True)
    decision = code(v.DECISIONS, "处理决定", required=True)
    penalty = fields.Nested(Penalty, allow_none=True, load_default=None)
    coercive_measure = fields.Nested(CoerciveMeasure, allow_none=True, load_default=None)
    legal_basis = legal_bases(required=True)
    major = fields.Boolean(required=True, metadata={"description": "是否重大案件（需法制审核）"})
    legal_review = fields.Nested(LegalReview, allow_none=True, load_default=None)
    exemption_list_entry = optional_text(64, "适用的免罚清单条目")
    circumstances = fields.Nested(
        Circumstances, allow_none=True, load_default=None, metadata={"description": "情节（轻微、危害后果、改正）"}
    )
    education_guidance_id = optional_uuid("免罚时配套的教育指导（轻微问题警示）编号")
    cited_guidance_ids = fields.List(
        fields.UUID(), load_default=list, metadata={"description": "决定所援引的行政指导记录（拒绝接受的指导不得援引）"}
    )
    override_reason = optional_text(2000, "符合免罚清单仍予处罚的理由")
    summary = optional_text(5000, "决定内容摘要")
    decided_at = moment("决定时间", required=True)
    backdated = _backdated()
    recorded_at = _recorded_at()

    rules = (
        RequiredWhen(
            "decision", ("penalty",), (("penalty",),), "A penalty decision needs penalty. 处罚决定须写明处罚内容。"
        ),
        NullUnless(
            "decision", ("penalty",), ("penalty",), "Only a penalty decision has a penalty. 非处罚决定不应有处罚内容。"
        ),
        RequiredWhen(
            "decision",
            ("coercive_measure",),
            (("coercive_measure",),),
            "A coercive decision needs coercive_measure. 强制措施决定须写明措施。",
        ),
        RequiredWhen(
            "major",
            (True,),
            (("legal_review",),),
            "A major decision needs legal review first. 重大执法决定须经法制审核（行政处罚法第五十八条）。",
        ),
    )

    @validates_schema
    def _exemption_override(self, data: Mapping[str, Any], **_: Any) -> None:
        if data["decision"] == "penalty" and data.get("exemption_list_entry") and not data.get("override_reason"):
            raise ValidationError(
                "A penalty despite an exemption-list entry needs a reason. 符合免罚清单仍予处罚的，须说明理由。",
                field_name="override_reason",
            )


class CaseLegalReviewed(Payload):
    """法制审核 was recorded for a case; a major decision may only follow an approving review (第五十八条)."""

    case_id = fields.UUID(required=True)
    department_id = _department()
    legal_review = fields.Nested(LegalReview, required=True)
    recorded_at = moment("记录时间", required=True)


class CaseDecisionRevoked(Payload):
    """A decision was changed or revoked; disclosure must withdraw it within 3 days (第四十八条)."""

    case_id = fields.UUID(required=True)
    department_id = _department()
    reason = text(2000, "撤销或变更理由", required=True)
    at = moment("撤销时间", required=True)


class CaseClosed(Payload):
    """A case was closed (结案); a closed major case starts the revisit clock."""

    case_id = fields.UUID(required=True)
    department_id = _department()
    outcome = code(v.CASE_OUTCOMES, "结案方式", required=True)
    major = fields.Boolean(required=True, metadata={"description": "是否重大案件"})
    closed_at = moment("结案时间", required=True)
    backdated = _backdated()
    recorded_at = _recorded_at()


class ArchivePackageProduced(Payload):
    """An archive package (归档包) of a department's year was produced: what was archived, when, and its hashes.

    It names no act, case or person: the package's manifest lists the items, and its hash here ties the
    package to the ledger.
    """

    archive_id = fields.UUID(required=True, metadata={"description": "归档包编号"})
    department_id = _department()
    fonds_code = text(20, "全宗号", required=True)
    year = fields.Integer(
        required=True, validate=validate.Range(min=1949, max=9999), metadata={"description": "归档年度"}
    )
    item_count = fields.Integer(required=True, validate=validate.Range(min=0), metadata={"description": "件数"})
    manifest_sha256 = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9a-f]{64}$", error="Not a SHA-256 in lower-case hex."),
        metadata={"description": "归档清单（manifest.json）的 SHA-256"},
    )
    package_sha256 = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9a-f]{64}$", error="Not a SHA-256 in lower-case hex."),
        metadata={"description": "归档包（ZIP）的 SHA-256"},
    )
    produced_at = moment("生成时间", required=True)


class PersonalDataErased(Payload):
    """A natural person's data keys were deleted (个人信息保护法第四十七条): every field sealed under them, in every
    event, copy and backup, can no longer be opened (docs/personal-data.md, "Erasure").

    It carries no personal data: the subject's pseudonym, the ids of the keys deleted, the legal ground and who
    asked and approved. A reader that caches persons' keys drops those named here.
    """

    erasure_id = fields.UUID(
        required=True,
        metadata={
            "description": "删除记录编号：由主体假名导出（UUID v5，urn:guidance:personal-data-erasure:<subject_id>），"
            "同一主体恒为同一编号，亦为 Kafka 键"
        },
    )
    subject_id = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9a-f]{64}$", error="Not a subject pseudonym (64 lower-case hex digits)."),
        metadata={"description": "个人信息主体的假名（docs/personal-data.md §4）"},
    )
    subject_kind = code(v.ERASED_SUBJECT_KINDS, "主体类别（按身份证件号码或个体工商户统一社会信用代码）", required=True)
    key_ids = fields.List(
        fields.String(validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,64}$")),
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "删除的数据密钥编号（kid）"},
    )
    legal_reason = code(v.ERASURE_REASONS, "删除依据（个人信息保护法第四十七条）", required=True)
    requested_by = text(200, "申请人（令牌主体）", required=True)
    approved_by = text(200, "批准人（不得为申请人本人）", required=True)
    erased_at = moment("删除时间", required=True)

    @validates_schema
    def _four_eyes(self, data: Mapping[str, Any], **_: Any) -> None:
        if data.get("requested_by") is not None and data.get("requested_by") == data.get("approved_by"):
            raise ValidationError("The approver must not be the requester. 批准人不得为申请人本人。", "approved_by")


def _event(name: str, aggregate: str, schema: type[Payload], subject: str) -> EventType:
    return EventType(name, 1, TOPIC, aggregate, schema, subject_field=subject)


EVENT_TYPES: tuple[EventType, ...] = (
    _event("GuidanceIssued", "Guidance", GuidanceIssued, "guidance_id"),
    _event("GuidanceResponded", "Guidance", GuidanceResponded, "guidance_id"),
    _event("CorrectionVerified", "Guidance", CorrectionVerified, "guidance_id"),
    _event("GuidanceSuspended", "Guidance", GuidanceSuspended, "guidance_id"),
    _event("GuidanceWithdrawn", "Guidance", GuidanceWithdrawn, "guidance_id"),
    _event("CaseOpened", "Case", CaseOpened, "case_id"),
    _event("CaseLegalReviewed", "Case", CaseLegalReviewed, "case_id"),
    _event("CaseDecided", "Case", CaseDecided, "case_id"),
    _event("CaseDecisionRevoked", "Case", CaseDecisionRevoked, "case_id"),
    _event("CaseClosed", "Case", CaseClosed, "case_id"),
    _event("ArchivePackageProduced", "ArchivePackage", ArchivePackageProduced, "archive_id"),
    _event("PersonalDataErased", "PersonalDataSubject", PersonalDataErased, "erasure_id"),
)
