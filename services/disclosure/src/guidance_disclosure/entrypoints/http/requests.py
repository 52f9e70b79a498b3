"""Officer-side API of requests for disclosure (依申请公开): register, 补正, consultation, extension, answer.

Officers register and answer, a supervisor approves an extension; every request belongs to a
department and callers see only their own. The worklist and a request's ``GET`` carry the applicant's
name (officers reply to them), opened from its sealed form with intake's key API at each read
(``adapters/applicants.py``) and recorded in the access log when the applicant is a natural person;
commands answer without it, so no copy kept for a retry holds it. Nothing here is logged or published:
public pages never read these records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Protocol, TypeVar

from flask.views import MethodView
from marshmallow import Schema, fields, post_load, validate
from sqlalchemy import Connection

from guidance_disclosure.adapters import queries
from guidance_disclosure.domain.commands import (
    AnswerRequest,
    EndConsultation,
    ExtendAnswerPeriod,
    RecordSupplement,
    RegisterRequest,
    RequestSupplement,
    StartConsultation,
)
from guidance_disclosure.domain.request import MAX_EXTENSION_WORKING_DAYS, DisclosureRequest
from guidance_disclosure.entrypoints.http.context import connection, deps, reader
from guidance_disclosure.entrypoints.http.officers import officer, provisions
from guidance_disclosure.entrypoints.http.paging import OfficerPaging, after, officer_page
from guidance_disclosure.handlers import requests as handlers
from guidance_disclosure.handlers.requests import Requests
from guidance_shared.auth import ADMIN, OFFICER, READERS, SUPERVISOR, ensure_department, load_own, requires
from guidance_shared.errors import NotFound
from guidance_shared.events.common import Counterpart, LegalBasis, Officer
from guidance_shared.vocabulary import EXEMPTIONS, REQUEST_ANSWERS, REQUEST_CHANNELS
from guidance_shared.web import CONDITIONAL, Blueprint, current_tx, idempotent, if_match
from guidance_shared.web.access_log import record_read
from guidance_shared.web.strict import StrictBody

C = TypeVar("C", contravariant=True)


class Step(Protocol[C]):
    """A request handler as the officer API calls it: its command, the version the client saw."""

    def __call__(
        self,
        requests: Requests,
        conn: Connection,
        request_id: str,
        cmd: C,
        /,
        *,
        expected_version: int | None = ...,
    ) -> DisclosureRequest: ...


ESTIMATED = (
    "预计：答复期限按预计的节假日安排计算（当年放假安排尚未公布），公布后重新计算；null while the clock is paused. "
    "The due date was counted on an estimated holiday calendar (its year's arrangement not yet published); it is "
    "counted again when it is."
)
STATUSES = ("open", "awaiting_supplement", "in_consultation", "answered", "overdue", "pending")

blp = Blueprint(
    "requests", __name__, url_prefix="/v1/requests", description="依申请公开 requests for disclosure (officer side)"
)


class RegisterRequestSchema(StrictBody):
    department_id = fields.UUID(required=True)
    applicant = fields.Nested(Counterpart, required=True)
    description = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    channel = fields.String(required=True, validate=validate.OneOf(REQUEST_CHANNELS))
    received_on = fields.Date(required=True, metadata={"description": "收到申请之日"})

    @post_load
    def _command(self, data: Mapping[str, Any], **_: Any) -> RegisterRequest:
        return RegisterRequest(
            department_id=str(data["department_id"]),
            applicant=data["applicant"],
            description=data["description"],
            channel=data["channel"],
            received_on=data["received_on"],
        )


class RequestQuery(OfficerPaging):
    department_id = fields.UUID(required=True)
    status = fields.String(
        load_default="pending",
        validate=validate.OneOf(STATUSES),
        metadata={
            "description": "pending (not yet answered), open, awaiting_supplement, in_consultation, "
            "overdue (flagged and unanswered), answered"
        },
    )


class RequestRow(Schema):
    request_id = fields.String()
    department_id = fields.String()
    applicant_kind = fields.String()
    applicant_name = fields.String()
    channel = fields.String()
    received_on = fields.Date()
    answer_due_on = fields.Date()
    deadline_estimated = fields.Boolean(metadata={"description": ESTIMATED})
    status = fields.String()
    overdue = fields.Boolean()
    extended = fields.Boolean()
    answer = fields.String(allow_none=True)
    answered_on = fields.Date(allow_none=True)
    version = fields.Integer()


class RequestList(Schema):
    requests = fields.List(fields.Nested(RequestRow))
    next = fields.String(allow_none=True, metadata={"description": "the cursor of the next page; null on the last"})


class RequestView(Schema):
    request_id = fields.String()
    department_id = fields.String()
    applicant_kind = fields.String(metadata={"description": "申请人类型（仅查询时返回）"})
    applicant_name = fields.String(
        metadata={"description": "申请人名称或姓名（仅查询时返回；自然人已删除的为［已删除］）"}
    )
    version = fields.Integer()
    status = fields.String(metadata={"description": "open, awaiting_supplement, in_consultation, answered"})
    received_on = fields.Date()
    clock_start = fields.Date(metadata={"description": "答复期限起算日（收到申请或补正之日）"})
    answer_due_on = fields.Date(allow_none=True, metadata={"description": "答复期限；征求意见期间暂停"})
    deadline_estimated = fields.Boolean(allow_none=True, metadata={"description": ESTIMATED})
    supplement_notice_due_on = fields.Date(metadata={"description": "补正通知期限"})
    supplement_requested = fields.Boolean()
    extension_working_days = fields.Integer()
    paused_working_days = fields.Integer()
    overdue = fields.Boolean(metadata={"description": "逾期：被标记逾期或逾期答复"})
    late = fields.Boolean(metadata={"description": "逾期答复（答复日期晚于答复期限）"})
    working_days_late = fields.Integer(metadata={"description": "答复期限后至答复之日的工作日数"})
    answer = fields.Dict()


class SupplementNotice(StrictBody):
    items = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    notice_on = fields.Date(required=True)
    supplement_by = fields.Date(load_default=None, allow_none=True)
    notified_by = fields.Nested(Officer, required=True)

    @post_load
    def _command(self, data: Mapping[str, Any], **_: Any) -> RequestSupplement:
        return RequestSupplement(
            items=data["items"],
            notice_on=data["notice_on"],
            notified_by=officer(data["notified_by"]),
            supplement_by=data.get("supplement_by"),
        )


class SupplementReceived(StrictBody):
    supplemented_on = fields.Date(required=True)

    @post_load
    def _command(self, data: Mapping[str, Any], **_: Any) -> RecordSupplement:
        return RecordSupplement(supplemented_on=data["supplemented_on"])


class ConsultationStart(StrictBody):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    started_on = fields.Date(required=True)

    @post_load
    def _command(self, data: Mapping[str, Any], **_: Any) -> StartConsultation:
        return StartConsultation(reason=data["reason"], started_on=data["started_on"])


class ConsultationEnd(StrictBody):
    ended_on = fields.Date(required=True)

    @post_load
    def _command(self, data: Mapping[str, Any], **_: Any) -> EndConsultation:
        return EndConsultation(ended_on=data["ended_on"])


class Extension(StrictBody):
    extension_working_days = fields.Integer(
        required=True, validate=validate.Range(min=1, max=MAX_EXTENSION_WORKING_DAYS)
    )
    approved_by = fields.Nested(Officer, required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    approved_on = fields.Date(
        load_default=None,
        metadata={"description": "批准延长之日（默认今天）：须在答复期限内；期限内批准、期限后登记的，按批准之日受理"},
    )

    @post_load
    def _command(self, data: Mapping[str, Any], **_: Any) -> ExtendAnswerPeriod:
        return ExtendAnswerPeriod(
            extension_working_days=data["extension_working_days"],
            approved_by=officer(data["approved_by"]),
            reason=data["reason"],
            approved_on=data.get("approved_on"),
        )


class Answer(StrictBody):
    answer = fields.String(required=True, validate=validate.OneOf(REQUEST_ANSWERS))
    exemption = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(EXEMPTIONS))
    legal_basis = fields.List(fields.Nested(LegalBasis), load_default=list)
    reply_doc_no = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64))
    answered_on = fields.Date(required=True)

    @post_load
    def _command(self, data: Mapping[str, Any], **_: Any) -> AnswerRequest:
        return AnswerRequest(
            answer=data["answer"],
            answered_on=data["answered_on"],
            exemption=data.get("exemption"),
            legal_basis=provisions(data.get("legal_basis")),
            reply_doc_no=data.get("reply_doc_no"),
        )


def _requests() -> Requests:
    return deps().requests


def _view(req: DisclosureRequest) -> Mapping[str, object]:
    deadline = None if req.status == "in_consultation" else req.answer_deadline()
    return {
        "request_id": req.request_id,
        "department_id": req.department_id,
        "version": req.version,
        "status": req.status,
        "received_on": req.received_on,
        "clock_start": req.clock_start,
        "answer_due_on": None if deadline is None else deadline.due_on,
        "deadline_estimated": None if deadline is None else deadline.estimated,
        "supplement_notice_due_on": req.supplement_notice_due_on(),
        "supplement_requested": req.supplement_requested,
        "extension_working_days": req.extension_days,
        "paused_working_days": req.paused_days,
        "overdue": req.overdue_flagged or req.answered_late,
        "late": req.answered_late,
        "working_days_late": req.working_days_late,
        "answer": req.answer,
    }


def _own(request_id: Any, *, in_command: bool = False) -> DisclosureRequest:
    def load() -> DisclosureRequest:
        with connection(in_command=in_command) as conn:
            return _requests().load(conn, str(request_id))

    return load_own(load, NotFound("request", "政府信息公开申请", str(request_id)))


#: applicants who are natural persons: their names on a worklist are personal data
PERSON_KINDS = ("person", "individual_business")


@blp.route("")
class RequestCollection(MethodView):
    @requires(*READERS)
    @blp.arguments(RequestQuery, location="query")
    @blp.response(200, RequestList)
    def get(self, query: Mapping[str, Any]) -> Any:
        """Requests of a department by status: the worklist of what is due and what ran late, earliest answer
        date first; ``limit`` rows a page, follow ``next`` (or the ``Link`` header) for the following page."""
        department = str(query["department_id"])
        ensure_department(department, not_found=NotFound("department", "部门", department))
        with reader() as conn:
            page = queries.request_rows(
                conn, department, status=query["status"], limit=query["limit"], after=after(query)
            )
        # Opened first (the key API down: a 503, nothing read, nothing recorded), then recorded, then shown.
        name = _requests().applicants.names(str(row["applicant_name"]) for row in page.rows)
        rows: list[Mapping[str, Any]] = [
            {**row, "applicant_name": name(str(row["applicant_name"]))} for row in page.rows
        ]
        # The worklist names its applicants; a page naming natural persons is one bulk read in the access log.
        persons = sum(1 for row in page.rows if row.get("applicant_kind") in PERSON_KINDS)
        if persons:
            record_read("getRequestCollection", count=persons)
        return officer_page("requests", replace(page, rows=rows))

    @requires(OFFICER, ADMIN)
    @blp.arguments(RegisterRequestSchema)
    @idempotent
    @blp.response(201, RequestView)
    def post(self, command: RegisterRequest) -> Any:
        """Register a request; the answer is due 20 working days after receipt (条例第三十三条)."""
        ensure_department(command.department_id)
        req = handlers.register(_requests(), current_tx(), command)
        headers = {"ETag": f'"{req.version}"', "Location": f"/v1/requests/{req.request_id}"}
        return _view(req), 201, headers


@blp.route("/<uuid:request_id>")
class RequestItem(MethodView):
    @requires(*READERS)
    @blp.response(200, RequestView)
    def get(self, request_id: Any) -> Any:
        """One request with its computed deadlines, its version and its applicant."""
        req = _own(request_id)
        with reader() as conn:
            applicant = queries.request_applicant(conn, req.request_id)
        if applicant is None:  # the read model lags no command: it is folded in the transaction that appends
            raise NotFound("request", "政府信息公开申请", str(request_id))
        name = _requests().applicants.names([str(applicant["applicant_name"])])(str(applicant["applicant_name"]))
        if applicant["applicant_kind"] in PERSON_KINDS:
            record_read("getRequestItem", subject_refs=(applicant["applicant_subject_id"],), record_id=req.request_id)
        view = {**_view(req), "applicant_kind": applicant["applicant_kind"], "applicant_name": name}
        return view, 200, {"ETag": f'"{req.version}"'}


def _command(
    name: str,
    schema: type[Schema],
    roles: tuple[str, ...],
    handler: Step[C],
    summary: str,
) -> None:
    @requires(*roles)
    @blp.arguments(schema)
    @idempotent
    @blp.doc(**CONDITIONAL)
    @blp.response(200, RequestView)
    def post(self: MethodView, command: C, request_id: Any) -> Any:
        _own(request_id, in_command=True)
        req = handler(
            _requests(),
            current_tx(),
            str(request_id),
            command,
            expected_version=if_match(),
        )
        return _view(req), 200, {"ETag": f'"{req.version}"'}

    post.__doc__ = summary
    view = type(f"Request{name.title().replace('-', '')}", (MethodView,), {"post": post})
    blp.route(f"/<uuid:request_id>/{name}")(view)


_command(
    "supplement-notice",
    SupplementNotice,
    (OFFICER, ADMIN),
    handlers.request_supplement,
    "Send the one-time notice to complete the request (补正), within 7 working days of receipt.",
)
_command(
    "supplement-received",
    SupplementReceived,
    (OFFICER, ADMIN),
    handlers.record_supplement,
    "Record the applicant's supplement; the 20 working days restart from that day.",
)
_command(
    "consultation-start",
    ConsultationStart,
    (OFFICER, ADMIN),
    handlers.start_consultation,
    "Start consulting a third party; the answer clock pauses (15 working days for the reply).",
)
_command(
    "consultation-end",
    ConsultationEnd,
    (OFFICER, ADMIN),
    handlers.end_consultation,
    "End the consultation; the due date moves by the working days it took.",
)
_command(
    "extension",
    Extension,
    (SUPERVISOR, ADMIN),
    handlers.extend,
    "Extend the answer period once, by at most 20 working days, with approval (条例第三十三条).",
)
_command(
    "answer",
    Answer,
    (OFFICER, ADMIN),
    handlers.answer,
    "Answer the request with its answer code; withholding names the exemption and legal basis.",
)
