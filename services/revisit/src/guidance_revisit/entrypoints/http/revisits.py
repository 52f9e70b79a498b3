"""revisit's worklists and commands: what is due, overdue and done; complete, reschedule, cancel."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask.views import MethodView
from marshmallow import Schema, fields, validate, validates_schema
from marshmallow import ValidationError as MarshmallowValidationError
from sqlalchemy import Connection

from guidance_revisit.adapters import queries
from guidance_revisit.domain.commands import CancelRevisit, CompleteRevisit, Findings, RescheduleRevisit
from guidance_revisit.domain.revisit import Revisit
from guidance_revisit.entrypoints.http.commands import Handler, command_route
from guidance_revisit.entrypoints.http.context import deps, officer
from guidance_revisit.entrypoints.http.paging import Paging, after, next_of
from guidance_revisit.handlers import revisits as handlers
from guidance_shared.auth import ADMIN, OFFICER, READERS, SUPERVISOR, ensure_department, load_own, requires
from guidance_shared.db import reading
from guidance_shared.errors import NotFound
from guidance_shared.events.common import Findings as FindingsSchema
from guidance_shared.events.common import Officer as OfficerSchema
from guidance_shared.vocabulary import REVISIT_METHODS
from guidance_shared.web import Blueprint
from guidance_shared.web.strict import StrictBody

ESTIMATED = (
    "预计：应回访日期按预计的节假日安排计算（当年放假安排尚未公布），公布后重新计算。 The due date was counted on an "
    "estimated holiday calendar (its year's arrangement not yet published); it is counted again when it is."
)
STATUSES = ("due", "overdue", "completed", "cancelled", "open")

blp = Blueprint("revisits", __name__, url_prefix="/v1/revisits", description="回访 revisits and correction checks")


class RevisitQuery(Paging):
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
    def _range(self, data: Mapping[str, Any], **_: Any) -> None:
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
    deadline_estimated = fields.Boolean(metadata={"description": ESTIMATED})


class RevisitList(Schema):
    revisits = fields.List(fields.Nested(RevisitRow))
    next = fields.String(allow_none=True, metadata={"description": "the cursor of the next page; null on the last"})


class CompleteRequest(StrictBody):
    completed_on = fields.Date(required=True, metadata={"description": "回访日期"})
    officers = fields.List(fields.Nested(OfficerSchema), required=True, validate=validate.Length(min=1))
    method = fields.String(required=True, validate=validate.OneOf(REVISIT_METHODS))
    findings = fields.Nested(FindingsSchema, required=True)
    notes = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=5000))


class RescheduleRequest(StrictBody):
    due_on = fields.Date(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class CancelRequest(StrictBody):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class RevisitView(Schema):
    revisit_id = fields.String()
    version = fields.Integer()
    status = fields.String(metadata={"description": "scheduled, overdue, completed, cancelled"})
    details = fields.Dict()
    due_on = fields.Date(allow_none=True)
    deadline_estimated = fields.Boolean(metadata={"description": ESTIMATED})
    outcome = fields.Dict()


def worklist(department_id: str, status: str, query: Mapping[str, Any]) -> list[queries.RevisitRecord]:
    """The worklist, whole (``query`` without ``limit``) or the page ``query`` asks for and one row more."""
    with reading(deps().engine) as conn:
        return queries.worklist(
            conn,
            department_id,
            status,
            officer_id=str(query["officer_id"]) if query.get("officer_id") else None,
            due_from=query.get("due_from"),
            due_to=query.get("due_to"),
            limit=query["limit"] + 1 if query.get("limit") else None,
            after=after(query),
        )


def _view(revisit: Revisit) -> tuple[Mapping[str, Any], int, dict[str, str]]:
    body = {
        "revisit_id": revisit.revisit_id,
        "version": revisit.version,
        "status": revisit.status,
        "details": revisit.details,
        "due_on": revisit.due_on,
        "deadline_estimated": revisit.deadline_estimated,
        "outcome": revisit.outcome,
    }
    return body, 200, {"ETag": f'"{revisit.version}"'}


def _own(revisit_id: str, conn: Connection) -> Revisit:
    return load_own(lambda: deps().revisits.load(conn, revisit_id), NotFound("revisit", "回访", revisit_id))


@blp.route("")
class RevisitCollection(MethodView):
    @requires(*READERS)
    @blp.arguments(RevisitQuery, location="query")
    @blp.response(200, RevisitList)
    def get(self, query: Mapping[str, Any]) -> Any:
        """Revisits of a department by status, officer and due-date range (worklists), earliest due first;
        ``limit`` rows a page, follow ``next`` (or the ``Link`` header) for the following page."""
        department_id = str(query["department_id"])
        ensure_department(department_id, not_found=NotFound("department", "部门", department_id))
        rows = worklist(department_id, query["status"], query)
        page, following, headers = next_of(rows, query["limit"], lambda row: (row["due_on"], row["revisit_id"]))
        return {"revisits": page, "next": following}, 200, headers


@blp.route("/<uuid:revisit_id>")
class RevisitItem(MethodView):
    @requires(*READERS)
    @blp.response(200, RevisitView)
    def get(self, revisit_id: Any) -> Any:
        """One revisit with its status and version."""
        with reading(deps().engine) as conn:
            return _view(_own(str(revisit_id), conn))


# -- commands: the body, loaded by its schema, becomes a typed command ---------------------------------
C = TypeVar("C")  # the command a body becomes


def _complete(revisit_id: str, body: Mapping[str, Any]) -> CompleteRevisit:
    findings = body["findings"]
    return CompleteRevisit(
        revisit_id=revisit_id,
        completed_on=body["completed_on"],
        officers=tuple(officer(o) for o in body["officers"]),
        method=body["method"],
        findings=Findings(
            conduct_ok=findings["conduct_ok"],
            rights_explained=findings["rights_explained"],
            needs_guidance=findings["needs_guidance"],
            corrected=findings.get("corrected"),
        ),
        notes=body.get("notes"),
    )


def _reschedule(revisit_id: str, body: Mapping[str, Any]) -> RescheduleRevisit:
    return RescheduleRevisit(revisit_id=revisit_id, due_on=body["due_on"], reason=body["reason"])


def _cancel(revisit_id: str, body: Mapping[str, Any]) -> CancelRevisit:
    return CancelRevisit(revisit_id=revisit_id, reason=body["reason"])


def _respond(_revisit_id: str, revisit: Revisit, _conn: Connection) -> Any:
    return _view(revisit)


def _command(
    name: str,
    schema: type[Schema],
    roles: tuple[str, ...],
    build: Callable[[str, Mapping[str, Any]], C],
    handler: Handler[C, Revisit],
    summary: str,
) -> None:
    command_route(
        blp,
        f"/<uuid:revisit_id>/{name}",
        f"Revisit{name.title().replace('-', '')}",
        roles=roles,
        schema=schema,
        response=RevisitView,
        own=_own,
        build=build,
        handler=handler,
        respond=_respond,
        summary=summary,
    )


_command(
    "completion",
    CompleteRequest,
    (OFFICER, ADMIN),
    _complete,
    handlers.complete,
    "Complete a revisit with its findings (corrected, conduct proper, rights explained, needs guidance).",
)
_command(
    "rescheduling",
    RescheduleRequest,
    (OFFICER, SUPERVISOR, ADMIN),
    _reschedule,
    handlers.reschedule,
    "Move a revisit to another date, with the reason kept.",
)
_command(
    "cancellation",
    CancelRequest,
    (SUPERVISOR, ADMIN),
    _cancel,
    handlers.cancel,
    "Cancel a revisit that will not happen, with the reason kept.",
)
