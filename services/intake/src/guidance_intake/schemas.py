"""Request and response schemas of intake's HTTP API, derived from the published event contracts."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from guidance_shared.events.common import LegalReview, Officer
from guidance_shared.events.intake import CaseClosed, CaseDecided, CaseOpened, GuidanceIssued
from guidance_shared.vocabulary import RESPONSES


class IssueGuidanceRequest(GuidanceIssued):
    """A guidance act as a county system submits it; intake assigns its id and document number (文号)."""

    class Meta(GuidanceIssued.Meta):
        exclude = ("guidance_id", "doc_no")

    issued_at = fields.AwareDateTime(
        load_default=None, metadata={"description": "作出时间; defaults to when intake accepts the act"}
    )


class RecordResponseRequest(Schema):
    response = fields.String(
        required=True,
        validate=validate.OneOf(RESPONSES),
        metadata={"description": "accepted 接受 / declined 拒绝 / no_response 未回应"},
    )
    statement = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    responded_at = fields.AwareDateTime(load_default=None, allow_none=True)


class VerifyCorrectionRequest(Schema):
    corrected = fields.Boolean(required=True, metadata={"description": "是否已改正"})
    verified_on = fields.Date(required=True, metadata={"description": "核查日期"})
    evidence = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    verified_by = fields.Nested(Officer, required=True)
    revisit_id = fields.UUID(load_default=None, allow_none=True)


class EndRequest(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000), metadata={"description": "理由"})
    at = fields.AwareDateTime(load_default=None, allow_none=True)


class OpenCaseRequest(CaseOpened):
    """A case as the case-handling system registers it; ``case_no`` is assigned when absent."""

    class Meta(CaseOpened.Meta):
        exclude = ("case_id",)

    case_no = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64))
    opened_at = fields.AwareDateTime(load_default=None, allow_none=True)
    identifier_override_reason = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=500),
        metadata={"description": "统一社会信用代码校验未通过仍予登记的理由"},
    )


class LegalReviewRequest(Schema):
    legal_review = fields.Nested(LegalReview, required=True)


class DecideCaseRequest(CaseDecided):
    """A decision; intake adds the number, the major flag, the recorded legal review and the list entry."""

    class Meta(CaseDecided.Meta):
        exclude = ("case_id", "department_id", "decision_no", "major", "legal_review", "exemption_list_entry")

    decided_at = fields.AwareDateTime(load_default=None, allow_none=True)


class CloseCaseRequest(CaseClosed):
    class Meta(CaseClosed.Meta):
        exclude = ("case_id", "department_id", "major")

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


class CounterpartQuery(Schema):
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
