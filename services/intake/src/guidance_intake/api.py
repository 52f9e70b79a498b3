"""intake's HTTP API: translate HTTP to commands and back, and say who may do what.

Roles: officers (执法人员) register and follow up guidance and cases; reviewers record the legal
review (法制审核); supervisors (负责人) decide, revoke, suspend and withdraw; auditors read;
admins may act for any department. Every record belongs to a department, and a caller reads and
changes only the records of its own departments (other departments' records read as 404).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from guidance_intake import handlers
from guidance_intake.adapters import read_model
from guidance_intake.domain.case import Case
from guidance_intake.domain.guidance import Guidance
from guidance_intake.schemas import (
    CaseView,
    CloseCaseRequest,
    CounterpartHistory,
    CounterpartQuery,
    DecideCaseRequest,
    EndRequest,
    GuidanceView,
    IssueGuidanceRequest,
    LegalReviewRequest,
    OpenCaseRequest,
    RecordResponseRequest,
    VerifyCorrectionRequest,
)
from guidance_intake.service import intake_of
from guidance_shared.auth import (
    ADMIN,
    OFFICER,
    READERS,
    REVIEWER,
    SUPERVISOR,
    current_principal,
    ensure_department,
    load_own,
    requires,
)
from guidance_shared.errors import GuidanceError, NotFound
from guidance_shared.web import current_request_id, current_tx, idempotent, if_match

guidance_blp = Blueprint("guidance", __name__, url_prefix="/v1/guidance", description="行政指导 guidance acts")
cases_blp = Blueprint("cases", __name__, url_prefix="/v1/cases", description="行政执法案件 enforcement cases")
counterparts_blp = Blueprint(
    "counterparts", __name__, url_prefix="/v1/counterparts", description="行政管理相对人 counterparts"
)


def _intake() -> handlers.Intake:
    return intake_of(current_app.extensions["guidance"]["runtime"])


def _guidance_view(guidance: Guidance) -> dict[str, Any]:
    return {
        "guidance_id": guidance.guidance_id,
        "version": guidance.version,
        "status": guidance.status,
        "details": guidance.details,
        "response": guidance.response,
        "corrections": guidance.corrections,
        "ended": guidance.ended,
    }


def _case_view(case: Case) -> dict[str, Any]:
    return {
        "case_id": case.case_id,
        "version": case.version,
        "status": case.status,
        "details": case.details,
        "legal_review": case.legal_review,
        "decision": case.decision,
        "revocations": case.revocations,
        "closing": case.closing,
    }


def _etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}


def _own_guidance(guidance_id: Any) -> Guidance:
    """Load a guidance act of one of the caller's departments (another department's reads as missing)."""
    return load_own(
        lambda: handlers.load_guidance(_intake(), str(guidance_id), conn=_tx_or_none()),
        NotFound("guidance act", "行政指导", str(guidance_id)),
    )


def _own_case(case_id: Any) -> Case:
    return load_own(
        lambda: handlers.load_case(_intake(), str(case_id), conn=_tx_or_none()),
        NotFound("enforcement case", "执法案件", str(case_id)),
    )


def _tx_or_none() -> Any:
    try:
        return current_tx()
    except RuntimeError:
        return None


# -- guidance acts ------------------------------------------------------------------------------
@guidance_blp.route("")
class GuidanceCollection(MethodView):
    @requires(OFFICER, ADMIN)
    @guidance_blp.arguments(IssueGuidanceRequest)
    @idempotent
    @guidance_blp.response(201, GuidanceView)
    def post(self, command: dict[str, Any]) -> Any:
        """Issue a guidance act (作出行政指导): legal basis, competence and form are checked; a 文号 is assigned."""
        ensure_department(command["department_id"])
        data = IssueGuidanceRequest().dump(command)
        guidance = handlers.issue_guidance(_intake(), current_tx(), data, correlation_id=current_request_id())
        location = url_for("guidance.GuidanceItem", guidance_id=guidance.guidance_id)
        return _guidance_view(guidance), 201, {"Location": location, **_etag(guidance.version)}


@guidance_blp.route("/<uuid:guidance_id>")
class GuidanceItem(MethodView):
    @requires(*READERS)
    @guidance_blp.response(200, GuidanceView)
    def get(self, guidance_id: Any) -> Any:
        """Read a guidance act with its status and version (send the version back in If-Match)."""
        guidance = _own_guidance(guidance_id)
        return _guidance_view(guidance), 200, _etag(guidance.version)


def _guidance_command(name: str, schema: Any, roles: tuple[str, ...], handler: Any, summary: str) -> None:
    """One POST endpoint per guidance command: same shape, different rule."""

    @requires(*roles)
    @guidance_blp.arguments(schema)
    @idempotent
    @guidance_blp.response(200, GuidanceView)
    def post(self: Any, command: dict[str, Any], guidance_id: Any) -> Any:
        _own_guidance(guidance_id)
        guidance = handler(
            _intake(),
            current_tx(),
            str(guidance_id),
            schema().dump(command),
            expected_version=if_match(),
            correlation_id=current_request_id(),
        )
        return _guidance_view(guidance), 200, _etag(guidance.version)

    post.__doc__ = summary
    view = type(f"Guidance{name.title().replace('-', '')}", (MethodView,), {"post": post})
    guidance_blp.route(f"/<uuid:guidance_id>/{name}")(view)


_guidance_command(
    "response",
    RecordResponseRequest,
    (OFFICER, ADMIN),
    handlers.record_response,
    "Record the counterpart's response (相对人回应: accepted, declined, no response).",
)
_guidance_command(
    "correction-verification",
    VerifyCorrectionRequest,
    (OFFICER, ADMIN),
    handlers.verify_correction,
    "Record whether the counterpart corrected by the deadline (改正核查).",
)
_guidance_command(
    "suspension",
    EndRequest,
    (SUPERVISOR, ADMIN),
    handlers.suspend_guidance,
    "Suspend a guidance act (中止), e.g. while an objection is heard.",
)
_guidance_command(
    "withdrawal",
    EndRequest,
    (SUPERVISOR, ADMIN),
    handlers.withdraw_guidance,
    "Withdraw a guidance act (撤回); its document number stays taken.",
)


# -- enforcement cases ----------------------------------------------------------------------------
@cases_blp.route("")
class CaseCollection(MethodView):
    @requires(OFFICER, ADMIN)
    @cases_blp.arguments(OpenCaseRequest)
    @idempotent
    @cases_blp.response(201, CaseView)
    def post(self, command: dict[str, Any]) -> Any:
        """Open an enforcement case (立案)."""
        ensure_department(command["department_id"])
        case = handlers.open_case(
            _intake(), current_tx(), OpenCaseRequest().dump(command), correlation_id=current_request_id()
        )
        location = url_for("cases.CaseItem", case_id=case.case_id)
        return _case_view(case), 201, {"Location": location, **_etag(case.version)}


@cases_blp.route("/<uuid:case_id>")
class CaseItem(MethodView):
    @requires(*READERS)
    @cases_blp.response(200, CaseView)
    def get(self, case_id: Any) -> Any:
        """Read a case with its legal review, decision, revocations and closing."""
        case = _own_case(case_id)
        return _case_view(case), 200, _etag(case.version)


def _case_command(name: str, schema: Any, roles: tuple[str, ...], handler: Any, summary: str) -> None:
    @requires(*roles)
    @cases_blp.arguments(schema)
    @idempotent
    @cases_blp.response(200, CaseView)
    def post(self: Any, command: dict[str, Any], case_id: Any) -> Any:
        _own_case(case_id)
        case = handler(
            _intake(),
            current_tx(),
            str(case_id),
            schema().dump(command),
            expected_version=if_match(),
            correlation_id=current_request_id(),
        )
        return _case_view(case), 200, _etag(case.version)

    post.__doc__ = summary
    view = type(f"Case{name.title().replace('-', '')}", (MethodView,), {"post": post})
    cases_blp.route(f"/<uuid:case_id>/{name}")(view)


_case_command(
    "legal-review",
    LegalReviewRequest,
    (REVIEWER, ADMIN),
    handlers.record_legal_review,
    "Record the legal review (法制审核); a major decision needs an approving one first.",
)
_case_command(
    "decision",
    DecideCaseRequest,
    (SUPERVISOR, ADMIN),
    handlers.decide_case,
    "Decide the case; exemption lists (免罚清单) and the legal-review rule are applied.",
)
_case_command(
    "revocation",
    EndRequest,
    (SUPERVISOR, ADMIN),
    handlers.revoke_decision,
    "Revoke or change the decision (撤销); disclosure withdraws it within 3 days.",
)
_case_command(
    "closure",
    CloseCaseRequest,
    (OFFICER, SUPERVISOR, ADMIN),
    handlers.close_case,
    "Close the case (结案); a closed major case starts the revisit clock.",
)


# -- counterparts ------------------------------------------------------------------------------------
@counterparts_blp.route("/history")
class CounterpartHistoryView(MethodView):
    @requires(*READERS)
    @counterparts_blp.arguments(CounterpartQuery)
    @counterparts_blp.response(200, CounterpartHistory)
    def post(self, query: dict[str, Any]) -> Any:
        """A counterpart's guidance acts and cases in the caller's departments (identifiers in the body, not a URL)."""
        if not query.get("uscc") and not (query.get("id_type") and query.get("id_no")):
            raise GuidanceError(
                code="counterpart-identifier-required",
                title_en="Identifier required",
                title_zh="缺少相对人标识",
                status=422,
                detail_en="Give uscc, or id_type and id_no.",
                detail_zh="请提供统一社会信用代码，或证件类型和证件号码。",
            )
        key = read_model.counterpart_key(
            {"uscc": query.get("uscc"), "id_type": query.get("id_type"), "id_no": query.get("id_no")}
        )
        runtime = current_app.extensions["guidance"]["runtime"]
        with runtime.engine.connect() as conn:
            entries = read_model.history(conn, key, current_principal().visible_departments())
        return {"entries": entries}
