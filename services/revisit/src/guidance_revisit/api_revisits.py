"""revisit's worklists and commands: what is due, overdue and done; complete, reschedule, cancel;
and iCalendar feeds so officials see their revisits in their own calendar.

Calendar programs cannot send an Authorization header, so a feed also accepts the same bearer
token as ``?token=`` (mint a long-lived one per officer); access logs never record query strings.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from icalendar import Calendar, Event
from marshmallow import Schema, fields, validate, validates_schema
from marshmallow import ValidationError as MarshmallowValidationError
from sqlalchemy import select

from guidance_revisit import handlers
from guidance_revisit.adapters.read_model import revisits
from guidance_revisit.domain.revisit import Revisit
from guidance_revisit.service import revisits_of
from guidance_shared.auth import (
    ADMIN,
    OFFICER,
    READERS,
    SUPERVISOR,
    current_principal,
    ensure_department,
    load_own,
    requires,
)
from guidance_shared.errors import NotFound
from guidance_shared.events.common import Findings, Officer
from guidance_shared.vocabulary import REVISIT_METHODS
from guidance_shared.web import current_request_id, current_tx, idempotent, if_match

CHINA = ZoneInfo("Asia/Shanghai")
STATUSES = ("due", "overdue", "completed", "cancelled", "open")

blp = Blueprint("revisits", __name__, url_prefix="/v1/revisits", description="回访 revisits and correction checks")
feeds = Blueprint("calendars", __name__, url_prefix="/v1/calendars", description="iCalendar feeds of revisits")


class RevisitQuery(Schema):
    department_id = fields.UUID(required=True)
    status = fields.String(
        load_default="open",
        validate=validate.OneOf(STATUSES),
        metadata={"description": "due (scheduled), overdue, completed, cancelled, open (due+overdue)"},
    )
    officer_id = fields.UUID(load_default=None)
    due_from = fields.Date(load_default=None, data_key="from")
    due_to = fields.Date(load_default=None, data_key="to")

    @validates_schema
    def _range(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("due_from") and data.get("due_to") and data["due_to"] < data["due_from"]:
            raise MarshmallowValidationError("Must not be before from. 结束日期不得早于开始日期。", field_name="to")


class RevisitRow(Schema):
    revisit_id = fields.String()
    department_id = fields.String()
    kind = fields.String(metadata={"description": "case_revisit | correction_check | spot"})
    case_id = fields.String(allow_none=True)
    guidance_id = fields.String(allow_none=True)
    due_on = fields.Date()
    reason = fields.String()
    officer_id = fields.String(allow_none=True)
    officer_name = fields.String(allow_none=True)
    status = fields.String()
    completed_on = fields.Date(allow_none=True)
    findings = fields.Dict(allow_none=True)
    version = fields.Integer()


class RevisitList(Schema):
    revisits = fields.List(fields.Nested(RevisitRow))


class CompleteRequest(Schema):
    completed_on = fields.Date(required=True, metadata={"description": "回访日期"})
    officers = fields.List(fields.Nested(Officer), required=True, validate=validate.Length(min=1))
    method = fields.String(required=True, validate=validate.OneOf(REVISIT_METHODS))
    findings = fields.Nested(Findings, required=True)
    notes = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=5000))


class RescheduleRequest(Schema):
    due_on = fields.Date(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class CancelRequest(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class RevisitView(Schema):
    revisit_id = fields.String()
    version = fields.Integer()
    status = fields.String()
    details = fields.Dict()
    due_on = fields.Date(allow_none=True)
    outcome = fields.Dict()


def _revisits() -> handlers.Revisits:
    return revisits_of(current_app.extensions["guidance"]["runtime"])


def _view(revisit: Revisit) -> dict[str, Any]:
    return {
        "revisit_id": revisit.revisit_id,
        "version": revisit.version,
        "status": revisit.status,
        "details": revisit.details,
        "due_on": revisit.due_on,
        "outcome": revisit.outcome,
    }


def _own(revisit_id: Any, *, in_command: bool = False) -> Revisit:
    return load_own(
        lambda: handlers.load(_revisits(), str(revisit_id), conn=current_tx() if in_command else None),
        NotFound("revisit", "回访", str(revisit_id)),
    )


def _rows(query: dict[str, Any]) -> list[dict[str, Any]]:
    statement = select(revisits).where(revisits.c.department_id == str(query["department_id"]))
    status = query["status"]
    if status == "due":
        statement = statement.where(revisits.c.status == "scheduled")
    elif status == "open":
        statement = statement.where(revisits.c.status.in_(("scheduled", "overdue")))
    else:
        statement = statement.where(revisits.c.status == status)
    if query.get("officer_id"):
        statement = statement.where(revisits.c.officer_id == str(query["officer_id"]))
    if query.get("due_from"):
        statement = statement.where(revisits.c.due_on >= query["due_from"])
    if query.get("due_to"):
        statement = statement.where(revisits.c.due_on <= query["due_to"])
    runtime = current_app.extensions["guidance"]["runtime"]
    with runtime.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(statement.order_by(revisits.c.due_on, revisits.c.revisit_id))]
    for row in rows:
        row["findings"] = json.loads(row["findings"]) if row["findings"] else None
    return rows


@blp.route("")
class RevisitCollection(MethodView):
    @requires(*READERS)
    @blp.arguments(RevisitQuery, location="query")
    @blp.response(200, RevisitList)
    def get(self, query: dict[str, Any]) -> Any:
        """Revisits of a department by status, officer and due-date range (worklists)."""
        ensure_department(
            str(query["department_id"]), not_found=NotFound("department", "部门", str(query["department_id"]))
        )
        return {"revisits": _rows(query)}


@blp.route("/<uuid:revisit_id>")
class RevisitItem(MethodView):
    @requires(*READERS)
    @blp.response(200, RevisitView)
    def get(self, revisit_id: Any) -> Any:
        """One revisit with its status and version."""
        revisit = _own(revisit_id)
        return _view(revisit), 200, {"ETag": f'"{revisit.version}"'}


def _command(name: str, schema: Any, roles: tuple[str, ...], handler: Any, summary: str) -> None:
    @requires(*roles)
    @blp.arguments(schema)
    @idempotent
    @blp.response(200, RevisitView)
    def post(self: Any, command: dict[str, Any], revisit_id: Any) -> Any:
        _own(revisit_id, in_command=True)
        revisit = handler(
            _revisits(),
            current_tx(),
            str(revisit_id),
            schema().dump(command),
            expected_version=if_match(),
            correlation_id=current_request_id(),
        )
        return _view(revisit), 200, {"ETag": f'"{revisit.version}"'}

    post.__doc__ = summary
    view = type(f"Revisit{name.title().replace('-', '')}", (MethodView,), {"post": post})
    blp.route(f"/<uuid:revisit_id>/{name}")(view)


_command(
    "completion",
    CompleteRequest,
    (OFFICER, ADMIN),
    handlers.complete,
    "Complete a revisit with its findings (corrected, conduct proper, rights explained, needs guidance).",
)
_command(
    "rescheduling",
    RescheduleRequest,
    (OFFICER, SUPERVISOR, ADMIN),
    handlers.reschedule,
    "Move a revisit to another date, with the reason kept.",
)
_command(
    "cancellation",
    CancelRequest,
    (SUPERVISOR, ADMIN),
    handlers.cancel,
    "Cancel a revisit that will not happen, with the reason kept.",
)


# -- calendars -------------------------------------------------------------------------------------
def _feed_token_to_header() -> None:
    """Calendar programs send no headers: accept the token as ?token= for the feeds only."""
    token = request.args.get("token")
    if token and "Authorization" not in request.headers:
        request.environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"


feeds.before_request(_feed_token_to_header)


def _calendar(name: str, rows: list[dict[str, Any]]) -> Response:
    calendar = Calendar()
    calendar.add("prodid", "-//guidance suite//revisit//ZH")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Asia/Shanghai")
    stamp = datetime.now(CHINA)
    for row in rows:
        event = Event()
        event.add("uid", f"{row['revisit_id']}@guidance-suite")
        event.add("dtstamp", stamp)
        event.add("dtstart", row["due_on"])
        event.add("summary", f"回访：{_kind_zh(row['kind'])}")
        event.add("description", row["reason"])
        event.add("status", "CONFIRMED" if row["status"] in ("scheduled", "overdue") else "CANCELLED")
        calendar.add_component(event)
    return Response(calendar.to_ical(), mimetype="text/calendar", headers={"Cache-Control": "private, max-age=300"})


def _kind_zh(kind: str) -> str:
    return {"case_revisit": "案件回访", "correction_check": "整改核查", "spot": "随机抽查回访"}.get(kind, kind)


@feeds.route("/departments/<uuid:department_id>.ics")
class DepartmentFeed(MethodView):
    @requires(*READERS)
    def get(self, department_id: Any) -> Response:
        """A department's open revisits as an iCalendar feed."""
        ensure_department(str(department_id), not_found=NotFound("department", "部门", str(department_id)))
        rows = _rows({"department_id": department_id, "status": "open"})
        return _calendar("回访日程", rows)


@feeds.route("/officers/<uuid:officer_id>.ics")
class OfficerFeed(MethodView):
    @requires(*READERS)
    def get(self, officer_id: Any) -> Response:
        """One officer's open revisits across the caller's departments as an iCalendar feed."""
        principal = current_principal()
        departments = principal.visible_departments()
        rows: list[dict[str, Any]] = []
        runtime = current_app.extensions["guidance"]["runtime"]
        statement = select(revisits).where(
            revisits.c.officer_id == str(officer_id), revisits.c.status.in_(("scheduled", "overdue"))
        )
        if departments is not None:
            statement = statement.where(revisits.c.department_id.in_(sorted(departments)))
        with runtime.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(statement.order_by(revisits.c.due_on))]
        return _calendar("我的回访", rows)
