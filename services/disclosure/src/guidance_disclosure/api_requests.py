"""Officer-side API of requests for disclosure (依申请公开): register, 补正, consultation, extension, answer.

Officers register and answer, a supervisor approves an extension; every request belongs to a
department and callers see only their own. Responses carry the applicant (officers reply to
them) but nothing here is logged or published: public pages never read these records.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from guidance_disclosure import requests_handlers as handlers
from guidance_disclosure.adapters.requests_read_model import disclosure_requests
from guidance_disclosure.domain.request import DisclosureRequest
from guidance_disclosure.service import requests_of
from guidance_shared.auth import ADMIN, OFFICER, READERS, SUPERVISOR, ensure_department, load_own, requires
from guidance_shared.errors import NotFound
from guidance_shared.events.common import Counterpart, LegalBasis, Officer
from guidance_shared.events.disclosure import MAX_EXTENSION_WORKING_DAYS
from guidance_shared.vocabulary import EXEMPTIONS, REQUEST_ANSWERS, REQUEST_CHANNELS
from guidance_shared.web import current_request_id, current_tx, idempotent, if_match

STATUSES = ("open", "awaiting_supplement", "in_consultation", "answered", "overdue", "pending")

blp = Blueprint(
    "requests", __name__, url_prefix="/v1/requests", description="依申请公开 requests for disclosure (officer side)"
)


class RegisterRequest(Schema):
    department_id = fields.UUID(required=True)
    applicant = fields.Nested(Counterpart, required=True)
    description = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    channel = fields.String(required=True, validate=validate.OneOf(REQUEST_CHANNELS))
    received_on = fields.Date(required=True, metadata={"description": "收到申请之日"})


class RequestQuery(Schema):
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
    status = fields.String()
    overdue = fields.Boolean()
    extended = fields.Boolean()
    answer = fields.String(allow_none=True)
    answered_on = fields.Date(allow_none=True)
    version = fields.Integer()


class RequestList(Schema):
    requests = fields.List(fields.Nested(RequestRow))


class RequestView(Schema):
    request_id = fields.String()
    department_id = fields.String()
    version = fields.Integer()
    status = fields.String()
    received_on = fields.Date()
    clock_start = fields.Date(metadata={"description": "答复期限起算日（收到申请或补正之日）"})
    answer_due_on = fields.Date(allow_none=True, metadata={"description": "答复期限；征求意见期间暂停"})
    supplement_notice_due_on = fields.Date(metadata={"description": "补正通知期限"})
    supplement_requested = fields.Boolean()
    extension_working_days = fields.Integer()
    paused_working_days = fields.Integer()
    overdue = fields.Boolean()
    answer = fields.Dict()


class SupplementNotice(Schema):
    items = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    notice_on = fields.Date(required=True)
    supplement_by = fields.Date(load_default=None, allow_none=True)
    notified_by = fields.Nested(Officer, required=True)


class SupplementReceived(Schema):
    supplemented_on = fields.Date(required=True)


class ConsultationStart(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    started_on = fields.Date(required=True)


class ConsultationEnd(Schema):
    ended_on = fields.Date(required=True)


class Extension(Schema):
    extension_working_days = fields.Integer(
        required=True, validate=validate.Range(min=1, max=MAX_EXTENSION_WORKING_DAYS)
    )
    approved_by = fields.Nested(Officer, required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class Answer(Schema):
    answer = fields.String(required=True, validate=validate.OneOf(REQUEST_ANSWERS))
    exemption = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(EXEMPTIONS))
    legal_basis = fields.List(fields.Nested(LegalBasis), load_default=list)
    reply_doc_no = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64))
    answered_on = fields.Date(required=True)


def _requests() -> handlers.Requests:
    return requests_of(current_app.extensions["guidance"]["runtime"])


def _view(req: DisclosureRequest) -> dict[str, Any]:
    return {
        "request_id": req.request_id,
        "department_id": req.department_id,
        "version": req.version,
        "status": req.status,
        "received_on": req.received_on,
        "clock_start": req.clock_start,
        "answer_due_on": None if req.status == "in_consultation" else req.answer_due_on(),
        "supplement_notice_due_on": req.supplement_notice_due_on(),
        "supplement_requested": req.supplement_requested,
        "extension_working_days": req.extension_days,
        "paused_working_days": req.paused_days,
        "overdue": req.overdue_flagged,
        "answer": req.answer,
    }


def _own(request_id: Any, *, in_command: bool = False) -> DisclosureRequest:
    return load_own(
        lambda: handlers.load(_requests(), str(request_id), conn=current_tx() if in_command else None),
        NotFound("request", "政府信息公开申请", str(request_id)),
    )


@blp.route("")
class RequestCollection(MethodView):
    @requires(*READERS)
    @blp.arguments(RequestQuery, location="query")
    @blp.response(200, RequestList)
    def get(self, query: dict[str, Any]) -> Any:
        """Requests of a department by status: the worklist of what is due and what ran late."""
        department = str(query["department_id"])
        ensure_department(department, not_found=NotFound("department", "部门", department))
        table = disclosure_requests
        statement = select(table).where(table.c.department_id == department)
        status = query["status"]
        if status == "pending":
            statement = statement.where(table.c.status != "answered")
        elif status == "overdue":
            statement = statement.where(table.c.overdue.is_(True), table.c.status != "answered")
        else:
            statement = statement.where(table.c.status == status)
        runtime = current_app.extensions["guidance"]["runtime"]
        with runtime.engine.connect() as conn:
            rows = conn.execute(statement.order_by(table.c.answer_due_on, table.c.request_id))
            return {"requests": [dict(row._mapping) for row in rows]}

    @requires(OFFICER, ADMIN)
    @blp.arguments(RegisterRequest)
    @idempotent
    @blp.response(201, RequestView)
    def post(self, command: dict[str, Any]) -> Any:
        """Register a request; the answer is due 20 working days after receipt (条例第三十三条)."""
        ensure_department(str(command["department_id"]))
        req = handlers.register(
            _requests(), current_tx(), RegisterRequest().dump(command), correlation_id=current_request_id()
        )
        headers = {"ETag": f'"{req.version}"', "Location": f"/v1/requests/{req.request_id}"}
        return _view(req), 201, headers


@blp.route("/<uuid:request_id>")
class RequestItem(MethodView):
    @requires(*READERS)
    @blp.response(200, RequestView)
    def get(self, request_id: Any) -> Any:
        """One request with its computed deadlines and version."""
        req = _own(request_id)
        return _view(req), 200, {"ETag": f'"{req.version}"'}


def _command(name: str, schema: Any, roles: tuple[str, ...], handler: Any, summary: str) -> None:
    @requires(*roles)
    @blp.arguments(schema)
    @idempotent
    @blp.response(200, RequestView)
    def post(self: Any, command: dict[str, Any], request_id: Any) -> Any:
        _own(request_id, in_command=True)
        req = handler(
            _requests(),
            current_tx(),
            str(request_id),
            schema().dump(command),
            expected_version=if_match(),
            correlation_id=current_request_id(),
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
