"""Request and response schemas of intake's HTTP API, derived from the published event contracts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from guidance_intake.domain.commands import (
    Circumstances,
    CloseCase,
    DecideCase,
    IssueGuidance,
    OpenCase,
    RecordLegalReview,
    RecordResponse,
    RevokeDecision,
    SuspendGuidance,
    VerifyCorrection,
    WithdrawGuidance,
)
from guidance_shared.dates import optional_date, optional_moment
from guidance_shared.events.common import Counterpart, Interview, LegalReview, Officer
from guidance_shared.events.intake import CaseClosed, CaseDecided, CaseOpened, GuidanceIssued
from guidance_shared.vocabulary import RESPONSES
from guidance_shared.web import register_translation
from guidance_shared.web.strict import StrictBody

# Dates and times a request may carry: wide enough for any real act, narrow enough that document years stay
# four digits and deadline and look-back arithmetic (± a few years) never leaves the calendar.
EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)
OUT_OF_RANGE_EN = f"Must be a date from {EARLIEST.isoformat()} to {LATEST.isoformat()}."
OUT_OF_RANGE_ZH = f"日期须在 {EARLIEST.isoformat()} 至 {LATEST.isoformat()} 之间。"
register_translation(OUT_OF_RANGE_EN, OUT_OF_RANGE_ZH)
#: Whether an entry is 补录 and when it was recorded: intake's own observation, never the caller's.
RECORDED_BY_INTAKE = ("backdated", "recorded_at")


def _dates_out_of_range(value: Any) -> dict[str | int, object] | list[str] | None:
    """Marshmallow-shaped errors for every date or time, however deeply nested, outside EARLIEST..LATEST."""
    if isinstance(value, date):  # a datetime too: its own calendar day
        day = value.date() if isinstance(value, datetime) else value
        return None if EARLIEST <= day <= LATEST else [OUT_OF_RANGE_EN]
    items: Any = value.items() if isinstance(value, Mapping) else enumerate(value) if isinstance(value, list) else ()
    errors: dict[str | int, object] = {key: problem for key, item in items if (problem := _dates_out_of_range(item))}
    return errors or None


class DatesInRange(StrictBody):
    """Refuses a date outside EARLIEST..LATEST with a 422 naming the field, instead of failing on it later, and
    (``StrictBody``) a field the request does not define."""

    @validates_schema(skip_on_field_errors=True)
    def _dates_in_range(self, data: Mapping[str, Any], **_: Any) -> None:
        errors = _dates_out_of_range(data)
        if errors:
            raise ValidationError(errors)


class IssueGuidanceRequest(DatesInRange, GuidanceIssued):
    """A guidance act as a county system submits it; intake assigns its id and document number (文号)."""

    class Meta(GuidanceIssued.Meta):
        # The department's name and credit code come from intake's registry, never from the caller.
        exclude = ("guidance_id", "doc_no", "department_name", "department_uscc", *RECORDED_BY_INTAKE)

    issued_at = fields.AwareDateTime(
        load_default=None, metadata={"description": "作出时间; defaults to when intake accepts the act"}
    )
    # A caller sends a counterpart in clear: intake seals a person's fields itself (docs/personal-data.md §6), and
    # never takes a sealed value or a pseudonym from outside.
    counterpart = fields.Nested(Counterpart, required=True)
    interview = fields.Nested(
        Interview, allow_none=True, load_default=None, metadata={"description": "约谈（行政监管劝勉）"}
    )


class RecordResponseRequest(DatesInRange):
    response = fields.String(
        required=True,
        validate=validate.OneOf(RESPONSES),
        metadata={"description": "accepted 接受 / declined 拒绝 / no_response 未回应"},
    )
    statement = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    responded_at = fields.AwareDateTime(load_default=None, allow_none=True)


class VerifyCorrectionRequest(DatesInRange):
    corrected = fields.Boolean(required=True, metadata={"description": "是否已改正"})
    verified_on = fields.Date(required=True, metadata={"description": "核查日期"})
    evidence = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    verified_by = fields.Nested(Officer, required=True)
    revisit_id = fields.UUID(load_default=None, allow_none=True)


class EndRequest(DatesInRange):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000), metadata={"description": "理由"})
    at = fields.AwareDateTime(load_default=None, allow_none=True)


class OpenCaseRequest(DatesInRange, CaseOpened):
    """A case as the case-handling system registers it; ``case_no`` is assigned when absent."""

    class Meta(CaseOpened.Meta):
        exclude = ("case_id", "department_name", "department_uscc", *RECORDED_BY_INTAKE)

    counterpart = fields.Nested(Counterpart, required=True)  # in clear, as for IssueGuidanceRequest
    case_no = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64))
    opened_at = fields.AwareDateTime(load_default=None, allow_none=True)
    identifier_override_reason = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=500),
        metadata={"description": "统一社会信用代码校验未通过或身份证号码出生日期早于1900年仍予登记的理由"},
    )


class LegalReviewRequest(DatesInRange):
    legal_review = fields.Nested(LegalReview, required=True)


class DecideCaseRequest(DatesInRange, CaseDecided):
    """A decision; intake adds the number, the major flag, the recorded legal review and the list entry."""

    class Meta(CaseDecided.Meta):
        exclude = (
            "case_id",
            "department_id",
            "decision_no",
            "major",
            "legal_review",
            "exemption_list_entry",
            *RECORDED_BY_INTAKE,
        )

    decided_at = fields.AwareDateTime(load_default=None, allow_none=True)


class CloseCaseRequest(DatesInRange, CaseClosed):
    class Meta(CaseClosed.Meta):
        exclude = ("case_id", "department_id", "major", *RECORDED_BY_INTAKE)

    closed_at = fields.AwareDateTime(load_default=None, allow_none=True)


class GuidanceView(Schema):
    guidance_id = fields.String(required=True)
    version = fields.Integer(required=True)
    status = fields.String(
        required=True, metadata={"description": "issued, responded, correction_verified, suspended, withdrawn"}
    )
    details = fields.Dict(required=True, metadata={"description": "The GuidanceIssued data"})
    response = fields.Dict(metadata={"description": "The GuidanceResponded data, once recorded"})
    corrections = fields.List(fields.Dict(), metadata={"description": "CorrectionVerified data, in order"})
    ended = fields.Dict(metadata={"description": "The GuidanceSuspended or GuidanceWithdrawn data"})


class CaseView(Schema):
    case_id = fields.String(required=True)
    version = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"description": "open, decided, decision_revoked, closed"})
    details = fields.Dict(required=True)
    legal_review = fields.Dict()
    decision = fields.Dict()
    revocations = fields.List(fields.Dict())
    closing = fields.Dict()


class CounterpartQuery(StrictBody):
    """Whose history: by credit code, or by identity document (sent in the body, never in a URL)."""

    uscc = fields.String(load_default=None, allow_none=True, validate=validate.Length(equal=18))
    id_type = fields.String(load_default=None, allow_none=True)
    id_no = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))


class HistoryEntry(Schema):
    record = fields.String(metadata={"description": "guidance or case"})
    id = fields.String()
    department_id = fields.String()
    number = fields.String(metadata={"description": "文号 or 案件编号"})
    kind = fields.String(metadata={"description": "content_type or violation category"})
    date = fields.Date()
    status = fields.String()


class CounterpartHistory(Schema):
    entries = fields.List(fields.Nested(HistoryEntry))


# -- commands from validated requests ---------------------------------------------------------------
# Each takes the request as the contract reads it (the schema's dump of what it loaded: JSON values).
def issue_guidance_command(body: Mapping[str, Any]) -> IssueGuidance:
    return IssueGuidance(
        department_id=str(body["department_id"]),
        domain=body["domain"],
        content_type=body["content_type"],
        counterpart=body["counterpart"],
        act=body,
        related_case_id=optional_text(body.get("related_case_id")),
        issued_at=optional_moment(body.get("issued_at")),
        identifier_override_reason=body.get("identifier_override_reason"),
    )


def record_response_command(guidance_id: str, body: Mapping[str, Any]) -> RecordResponse:
    return RecordResponse(
        guidance_id, body["response"], body.get("statement"), optional_moment(body.get("responded_at"))
    )


def verify_correction_command(guidance_id: str, body: Mapping[str, Any]) -> VerifyCorrection:
    return VerifyCorrection(
        guidance_id=guidance_id,
        corrected=body["corrected"],
        verified_on=body["verified_on"],
        verified_by=body["verified_by"],
        evidence=body.get("evidence"),
        revisit_id=body.get("revisit_id"),
    )


def suspend_guidance_command(guidance_id: str, body: Mapping[str, Any]) -> SuspendGuidance:
    return SuspendGuidance(guidance_id, body["reason"], optional_moment(body.get("at")))


def withdraw_guidance_command(guidance_id: str, body: Mapping[str, Any]) -> WithdrawGuidance:
    return WithdrawGuidance(guidance_id, body["reason"], optional_moment(body.get("at")))


def open_case_command(body: Mapping[str, Any]) -> OpenCase:
    return OpenCase(
        department_id=str(body["department_id"]),
        domain=body["domain"],
        violation_category=body["violation"]["category"],
        counterpart=body["counterpart"],
        case=body,
        case_no=body.get("case_no"),
        opened_at=optional_moment(body.get("opened_at")),
        identifier_override_reason=body.get("identifier_override_reason"),
    )


def record_legal_review_command(case_id: str, body: Mapping[str, Any]) -> RecordLegalReview:
    return RecordLegalReview(case_id, body["legal_review"])


def decide_case_command(case_id: str, body: Mapping[str, Any]) -> DecideCase:
    circumstances = body.get("circumstances") or {}
    return DecideCase(
        case_id=case_id,
        decision=body,
        circumstances=Circumstances(
            minor=bool(circumstances.get("minor", False)),
            corrected_on=optional_date(circumstances.get("corrected_on")),
            harmful_consequence=bool(circumstances.get("harmful_consequence", True)),
        ),
        cited_guidance_ids=tuple(str(g) for g in body.get("cited_guidance_ids") or []),
        education_guidance_id=optional_text(body.get("education_guidance_id")),
        decided_at=optional_moment(body.get("decided_at")),
    )


def revoke_decision_command(case_id: str, body: Mapping[str, Any]) -> RevokeDecision:
    return RevokeDecision(case_id, body["reason"], optional_moment(body.get("at")))


def close_case_command(case_id: str, body: Mapping[str, Any]) -> CloseCase:
    return CloseCase(case_id, body, optional_moment(body.get("closed_at")))


def optional_text(value: Any) -> str | None:
    """An optional id as text ("" counts as none)."""
    return str(value) if value else None
