"""Reminder plans (执法事项提示) over HTTP: the forecast, a supervisor's decision, and the task list.

The forecast shows each plan with the statistics behind it so a supervisor can judge it; only
supervisors (负责人) accept, adjust or dismiss. Accepted plans become a task list whose items carry
a draft body for intake's ``POST /v1/guidance``: revisit never calls intake — the officer
completes the draft (counterpart, officers, legal basis, the substance of the reminder) and
issues it there, one act per counterpart.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any, TypeVar

from flask.views import MethodView
from marshmallow import Schema, fields, validate, validates_schema
from marshmallow import ValidationError as MarshmallowValidationError
from sqlalchemy import Connection

from guidance_revisit.adapters import queries
from guidance_revisit.domain.commands import (
    AcceptReminderPlan,
    AdjustReminderPlan,
    DismissReminderPlan,
    Officer,
    Period,
)
from guidance_revisit.domain.reminder_plan import ReminderPlan
from guidance_revisit.entrypoints.http.commands import Handler, command_route
from guidance_revisit.entrypoints.http.context import deps, officer
from guidance_revisit.entrypoints.http.paging import Paging, after, next_of
from guidance_revisit.handlers import reminder_plans as handlers
from guidance_shared.auth import ADMIN, READERS, SUPERVISOR, current_principal, ensure_department, requires
from guidance_shared.dates import china_today
from guidance_shared.db import reading
from guidance_shared.errors import NotFound
from guidance_shared.events.common import Officer as OfficerSchema
from guidance_shared.events.common import PeakPeriod
from guidance_shared.web import Blueprint
from guidance_shared.web.strict import StrictBody

STATUSES = ("planned", "accepted", "dismissed", "all")
DECIDERS = (SUPERVISOR, ADMIN)
TASK_WINDOW_DAYS = 30  # a task appears this many days before its notice date
TO_FILL = ("officers", "counterpart", "legal_basis")
CONTENT_PLACEHOLDER = "【请写明相关法律规定、本局要求和相对人应注意的事项】"
RIGHTS_NOTICE = (
    "本提示不具有强制力，你单位可以自愿接受。对本提示有异议的，可以向本局陈述意见；"
    "认为本局行为侵犯合法权益的，可以依法申请行政复议或者提起行政诉讼。"
)

blp = Blueprint(
    "reminder_plans",
    __name__,
    url_prefix="/v1/reminder-plans",
    description="执法事项提示计划 reminder plans before violation-prone periods",
)


class PlanQuery(Paging):
    KEY_PARTS = 3  # notice date, category, plan id

    department_id = fields.UUID(required=True)
    status = fields.String(
        load_default="all",
        validate=validate.OneOf(STATUSES),
        metadata={"description": "planned | accepted | dismissed | all"},
    )


class TaskQuery(Schema):
    department_id = fields.UUID(required=True)


class PlanRow(Schema):
    plan_id = fields.String()
    department_id = fields.String()
    violation_category = fields.String()
    domain = fields.String(allow_none=True)
    peak_period = fields.Nested(PeakPeriod, metadata={"description": "高发期 {from, to}"})
    notify_on = fields.Date(metadata={"description": "提示日期"})
    status = fields.String(metadata={"description": "planned | accepted | dismissed"})
    adjusted = fields.Boolean(metadata={"description": "accepted with another period or notice date"})
    basis = fields.Dict(metadata={"description": "ReminderBasis: the statistics behind the plan"})
    planned_at = fields.String()
    decided_by = fields.String(allow_none=True)
    decided_at = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    version = fields.Integer()
    reminders_issued = fields.List(
        fields.String(),
        metadata={
            "description": "文号 of the enforcement reminders intake issued for it; a task is done once there is one"
        },
    )


class PlanList(Schema):
    plans = fields.List(fields.Nested(PlanRow))
    next = fields.String(allow_none=True, metadata={"description": "the cursor of the next page; null on the last"})


class Task(PlanRow):
    draft = fields.Dict(metadata={"description": "body for intake's POST /v1/guidance, to complete"})
    to_fill = fields.List(fields.String(), metadata={"description": "fields of the draft the officer must add"})


class TaskList(Schema):
    tasks = fields.List(fields.Nested(Task))


class AcceptRequest(StrictBody):
    accepted_by = fields.Nested(OfficerSchema, load_default=None, metadata={"description": "defaults to the caller"})


class AdjustRequest(StrictBody):
    peak_period = fields.Nested(PeakPeriod, required=True)
    notify_on = fields.Date(required=True, metadata={"description": "提示日期"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    by = fields.Nested(OfficerSchema, load_default=None, metadata={"description": "defaults to the caller"})

    @validates_schema
    def _dates(self, data: Mapping[str, Any], **_: Any) -> None:
        if "peak_period" not in data or "notify_on" not in data:
            return
        if data["notify_on"] > data["peak_period"]["from"]:
            raise MarshmallowValidationError(
                "Must not be after the start of the peak period. 提示日期不得晚于高发期开始。", field_name="notify_on"
            )
        if data["notify_on"] < china_today(deps().now()):
            raise MarshmallowValidationError("Must not be in the past. 提示日期不得早于今天。", field_name="notify_on")


class DismissRequest(StrictBody):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    by = fields.Nested(OfficerSchema, load_default=None, metadata={"description": "defaults to the caller"})


def _caller() -> Officer:
    """The deciding supervisor as an Officer when the body names none: the token's name or subject."""
    principal = current_principal()
    return Officer(name=(principal.name or principal.subject)[:50])


def _department(department_id: Any) -> str:
    ensure_department(str(department_id), not_found=NotFound("department", "部门", str(department_id)))
    return str(department_id)


def _plan_key(row: queries.ForecastRecord) -> tuple[Any, ...]:
    return row["notify_on"], row["violation_category"], row["plan_id"]


def _forecast(
    department_id: str,
    statuses: tuple[str, ...] | None,
    notify_by: date | None = None,
    *,
    current_on: date | None = None,
    limit: int | None = None,
    after: tuple[Any, ...] | None = None,
) -> list[queries.ForecastRecord]:
    """Plans with the reminders intake has already issued for them (same category, overlapping period)."""
    with reading(deps().engine) as conn:
        return queries.plans(
            conn,
            department_id,
            statuses=statuses,
            notify_by=notify_by,
            current_on=current_on,
            limit=limit,
            after=after,
        )


@blp.route("")
class PlanCollection(MethodView):
    @requires(*READERS)
    @blp.arguments(PlanQuery, location="query")
    @blp.response(200, PlanList)
    def get(self, query: Mapping[str, Any]) -> Any:
        """The forecast: a department's reminder plans by status, each with the statistics behind it, by notice
        date; ``limit`` plans a page, follow ``next`` (or the ``Link`` header) for the following page."""
        department_id = _department(query["department_id"])
        statuses = None if query["status"] == "all" else (query["status"],)
        rows = _forecast(department_id, statuses, limit=query["limit"] + 1, after=after(query, PlanQuery.KEY_PARTS))
        page, following, headers = next_of(rows, query["limit"], _plan_key)
        return {"plans": page, "next": following}, 200, headers


@blp.route("/tasks")
class TaskCollection(MethodView):
    @requires(*READERS)
    @blp.arguments(TaskQuery, location="query")
    @blp.response(200, TaskList)
    def get(self, query: Mapping[str, Any]) -> Any:
        """Accepted plans to act on: notice date come or within 30 days, peak not over; with intake drafts."""
        department_id = _department(query["department_id"])
        today = china_today(deps().now())
        # Plans whose period is over are no task: left out by the query, so past years are never read.
        rows = _forecast(
            department_id, ("accepted",), notify_by=today + timedelta(days=TASK_WINDOW_DAYS), current_on=today
        )
        return {
            "tasks": [
                r | {"draft": draft(r), "to_fill": list(TO_FILL)}
                for r in rows
                if r["period_to"] >= today and not r["reminders_issued"]
            ]
        }


def draft(row: queries.PlanRecord) -> Mapping[str, Any]:
    """A body for intake's ``POST /v1/guidance`` (IssueGuidanceRequest) without what only the officer knows.

    Every field of the contract is spelled out except ``TO_FILL`` (and ``issued_at``, which intake
    defaults to when it accepts the act), so adding those makes it a complete request.
    """
    start, end = row["period_from"], row["period_to"]
    category = row["violation_category"]
    span = f"{start.month}月{start.day}日至{end.month}月{end.day}日"
    return {
        "department_id": row["department_id"],
        "content_type": "enforcement_reminder",
        "methods": ["persuasion_reminder"],
        "domain": row["domain"] or "penalty",
        "form": "written",
        "initiated": "own_initiative",
        "applied_at": None,
        "written_requested": False,
        "matter": f"{category}执法事项提示（{span}）",
        "content": (
            f"根据本局执法数据分析，每年{span}前后是{category}类违法行为的易发期。"
            f"为帮助你单位依法经营、防范违法风险，现就有关法律规定和本局要求提示如下：{CONTENT_PLACEHOLDER}"
        ),
        "rights_notice": RIGHTS_NOTICE,
        "correction_deadline": None,
        "related_case_id": None,
        "interview": None,
        "reminder": {"violation_category": category, "period": {"from": start.isoformat(), "to": end.isoformat()}},
        "advice": None,
        "identifier_override_reason": None,
        "disclosure": {"level": "public", "exemption": None, "reason": None},
    }


@blp.route("/<uuid:plan_id>")
class PlanItem(MethodView):
    @requires(*READERS)
    @blp.response(200, PlanRow)
    def get(self, plan_id: Any) -> Any:
        """One reminder plan with its statistics and version (send the version back in If-Match)."""
        with reading(deps().engine) as conn:
            return _owned(_own(str(plan_id), conn))


def _own(plan_id: str, conn: Connection) -> queries.PlanRecord:
    missing = NotFound("reminder plan", "执法事项提示计划", plan_id)
    row = queries.plan(conn, plan_id)
    if row is None:
        raise missing
    ensure_department(row["department_id"], not_found=missing)
    return row


def _owned(row: queries.PlanRecord) -> tuple[queries.PlanRecord, int, dict[str, str]]:
    return row, 200, {"ETag": f'"{row["version"]}"'}


# -- decisions: the body, loaded by its schema, becomes a typed command ---------------------------------
C = TypeVar("C")  # the command a body becomes


def _decider(loaded: Mapping[str, Any] | None) -> Officer:
    return officer(loaded) if loaded else _caller()


def _accept(plan_id: str, body: Mapping[str, Any]) -> AcceptReminderPlan:
    return AcceptReminderPlan(plan_id=plan_id, accepted_by=_decider(body.get("accepted_by")))


def _adjust(plan_id: str, body: Mapping[str, Any]) -> AdjustReminderPlan:
    period = body["peak_period"]
    return AdjustReminderPlan(
        plan_id=plan_id,
        peak_period=Period(start=period["from"], end=period["to"]),
        notify_on=body["notify_on"],
        reason=body["reason"],
        by=_decider(body.get("by")),
    )


def _dismiss(plan_id: str, body: Mapping[str, Any]) -> DismissReminderPlan:
    return DismissReminderPlan(plan_id=plan_id, reason=body["reason"], by=_decider(body.get("by")))


def _respond(plan_id: str, _plan: ReminderPlan, conn: Connection) -> Any:
    return _owned(_own(plan_id, conn))  # the row the decision's event folded into


def _command(
    name: str,
    schema: type[Schema],
    build: Callable[[str, Mapping[str, Any]], C],
    handler: Handler[C, ReminderPlan],
    summary: str,
) -> None:
    command_route(
        blp,
        f"/<uuid:plan_id>/{name}",
        f"ReminderPlan{name.title()}",
        roles=DECIDERS,
        schema=schema,
        response=PlanRow,
        own=_own,
        build=build,
        handler=handler,
        respond=_respond,
        summary=summary,
    )


_command(
    "acceptance",
    AcceptRequest,
    _accept,
    handlers.accept,
    "Accept a reminder plan as forecast; it joins the task list.",
)
_command(
    "adjustment",
    AdjustRequest,
    _adjust,
    handlers.adjust,
    "Accept a reminder plan with another peak period or notice date, with the reason kept.",
)
_command(
    "dismissal",
    DismissRequest,
    _dismiss,
    handlers.dismiss,
    "Dismiss a reminder plan, with the reason kept; it is not planned again.",
)
