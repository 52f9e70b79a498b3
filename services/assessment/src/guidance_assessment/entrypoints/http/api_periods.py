"""assessment's API: periods, live standings and published scorecards, explanations, external
evaluation scores and the rollout programme's deliverables, behind bearer tokens.

Who sees what: auditors (审计/考核办), supervisors (法制部门) and admins see every department; any other
role sees only the departments in its token (its own scorecard, with the rank it holds among all).
Supervisors and admins open and publish periods and enter external scores; a department's officers
record its own deliverables (supervisors and admins may record them for any department).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from flask import url_for
from flask.views import MethodView
from marshmallow import Schema, fields, post_load, validate, validates_schema
from marshmallow import ValidationError as MarshmallowValidationError
from sqlalchemy import Connection

from guidance_assessment.adapters import queries
from guidance_assessment.adapters.queries import Period
from guidance_assessment.domain import commands
from guidance_assessment.domain.commands import (
    DeliverableReport,
    OpenPeriod,
    PublishScorecards,
    RecordDeliverable,
    RecordExternalEvaluation,
    ReviseScorecards,
)
from guidance_assessment.domain.scoring import rounded
from guidance_assessment.entrypoints.http.context import deps, engine, may_see, visible_department
from guidance_assessment.handlers import periods, standing
from guidance_shared.auth import ADMIN, OFFICER, READERS, SUPERVISOR, current_principal, ensure_department, requires
from guidance_shared.db import reading
from guidance_shared.errors import NotFound
from guidance_shared.web import Blueprint, current_tx, idempotent
from guidance_shared.web.openapi import located
from guidance_shared.web.strict import StrictBody

MANAGERS = (SUPERVISOR, ADMIN)
FIRST_YEAR, LAST_YEAR = 2000, 2100

blp = Blueprint(
    "periods", __name__, url_prefix="/v1/assessment/periods", description="考核评比 the year-end assessment"
)


# -- schemas ---------------------------------------------------------------------------------------
class OpenPeriodRequest(StrictBody):
    year = fields.Integer(required=True, validate=validate.Range(min=FIRST_YEAR, max=LAST_YEAR))
    # The examples leave the window to its default, so an example with another year opens that year.
    starts_on = fields.Date(load_default=None, metadata={"description": "统计起始日（默认1月1日）", "example": None})
    ends_on = fields.Date(load_default=None, metadata={"description": "统计截止日（默认12月31日）", "example": None})
    department_ids = fields.List(
        fields.UUID(),
        load_default=list,
        validate=validate.Length(max=500),
        metadata={"description": "参评机关；空为全部"},
    )

    @validates_schema
    def _window(self, data: Mapping[str, Any], **_: Any) -> None:
        year, starts, ends = data["year"], data.get("starts_on"), data.get("ends_on")
        for name in ("starts_on", "ends_on"):
            day = data.get(name)
            if day is not None and abs(day.year - year) > 1:
                raise MarshmallowValidationError("Must lie near the year. 统计区间须在考核年度内。", field_name=name)
        if starts and ends and ends < starts:
            raise MarshmallowValidationError(
                "Must not be before starts_on. 截止日不得早于起始日。", field_name="ends_on"
            )

    @post_load
    def _command(self, data: Mapping[str, Any], **_: Any) -> OpenPeriod:
        return OpenPeriod(
            year=data["year"],
            starts_on=data.get("starts_on"),
            ends_on=data.get("ends_on"),
            department_ids=tuple(str(d) for d in data.get("department_ids") or ()),
        )


class PeriodView(Schema):
    period_id = fields.String()
    year = fields.Integer()
    starts_on = fields.Date()
    ends_on = fields.Date()
    status = fields.String(metadata={"description": "open | published"})
    rubric = fields.Dict(metadata={"description": "the rubric the period keeps"})
    department_ids = fields.List(fields.String())
    opened_at = fields.String()


class ScorecardRow(Schema):
    department_id = fields.String()
    rank = fields.Integer()
    score = fields.Float()
    groups = fields.Dict(keys=fields.String(), values=fields.Float())
    indicators = fields.Dict(metadata={"description": "code → {value, score, numerator, denominator}"})
    published_version = fields.Integer(allow_none=True)


class StandingView(Schema):
    year = fields.Integer()
    status = fields.String()
    as_of = fields.Date(metadata={"description": "figures taken on this day (deadlines after it are not yet due)"})
    rubric_version = fields.String()
    scorecards = fields.List(fields.Nested(ScorecardRow))


class SourceView(Schema):
    subject_id = fields.String()
    event_ids = fields.List(fields.String())
    counted = fields.Boolean(metadata={"description": "true: counted for the figure (numerator)"})
    note = fields.String()


class IndicatorExplanation(Schema):
    code = fields.String()
    name = fields.String()
    group = fields.String()
    value = fields.Float(allow_none=True, metadata={"description": "raw figure; null when nothing to measure"})
    numerator = fields.Integer(allow_none=True)
    denominator = fields.Integer(allow_none=True)
    normalised = fields.Float()
    weight = fields.Float()
    score = fields.Float()
    detail = fields.Dict()
    sources = fields.List(fields.Nested(SourceView))


class ExplainView(Schema):
    year = fields.Integer()
    department_id = fields.String()
    as_of = fields.Date()
    rubric_version = fields.String()
    score = fields.Float()
    rank = fields.Integer()
    groups = fields.Dict(keys=fields.String(), values=fields.Float())
    published_version = fields.Integer(allow_none=True)
    activity = fields.Dict(metadata={"description": "guidance acts by content type, method and form"})
    indicators = fields.List(fields.Nested(IndicatorExplanation))


class VersionView(Schema):
    scorecard_id = fields.String()
    version = fields.Integer()
    score = fields.Float()
    rank = fields.Integer()
    indicators = fields.Dict()
    differences = fields.List(fields.Dict())
    new_source_event_ids = fields.List(fields.String())
    published_at = fields.String()
    event_id = fields.String()


class VersionList(Schema):
    versions = fields.List(fields.Nested(VersionView))


class ExternalRequest(StrictBody):
    score = fields.Float(required=True, validate=validate.Range(min=0, max=100), metadata={"description": "百分制"})
    method = fields.String(required=True, validate=validate.Length(min=1, max=100))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))

    @post_load
    def _evaluation(self, data: Mapping[str, Any], **_: Any) -> commands.ExternalEvaluation:
        return commands.ExternalEvaluation(**data)


class DeliverableRequest(StrictBody):
    deliverable = fields.String(
        required=True, validate=validate.Length(min=1, max=64), metadata={"description": "e.g. plan_filed"}
    )
    done_on = fields.Date(required=True)
    evidence = fields.String(required=True, validate=validate.Length(min=1, max=1000))

    @post_load
    def _report(self, data: Mapping[str, Any], **_: Any) -> DeliverableReport:
        return DeliverableReport(**data)


class DeliverableView(Schema):
    department_id = fields.String()
    deliverable = fields.String()
    done_on = fields.Date()
    evidence = fields.String()
    event_id = fields.String()
    due_on = fields.Date(allow_none=True)


class DeliverableList(Schema):
    deliverables = fields.List(fields.Nested(DeliverableView))


class PhaseView(Schema):
    phase = fields.String(metadata={"description": "plan | rules | embedding | review | assessment"})
    name = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date()


class DeliverableStatus(Schema):
    deliverable = fields.String()
    due_on = fields.Date()
    done_on = fields.Date(allow_none=True)
    evidence = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "on_time | late | missing"})


class DepartmentProgramme(Schema):
    department_id = fields.String()
    deliverables = fields.List(fields.Nested(DeliverableStatus))


class ProgrammeView(Schema):
    year = fields.Integer()
    phases = fields.List(fields.Nested(PhaseView))
    departments = fields.List(fields.Nested(DepartmentProgramme))


class Done(Schema):
    count = fields.Integer(metadata={"description": "scorecards published or revised"})


# -- helpers ------------------------------------------------------------------------------------
def _period_view(conn: Connection, period: Period) -> dict[str, object]:
    published = bool(queries.latest(conn, period.period_id))
    return {**asdict(period), "status": "published" if published else "open"}


# -- periods ------------------------------------------------------------------------------------
@blp.route("")
class Periods(MethodView):
    @requires(*MANAGERS)
    @blp.arguments(OpenPeriodRequest)
    @idempotent
    @located(lambda period: url_for("periods.PeriodItem", year=period["year"]))
    @blp.response(201, PeriodView)
    def post(self, command: OpenPeriod) -> Any:
        """Open a year for scoring under the configured rubric, which the period then keeps."""
        conn = current_tx()
        periods.open_period(deps(), conn, command)
        return _period_view(conn, standing.period_row(conn, command.year))


@blp.route("/<int:year>")
class PeriodItem(MethodView):
    @requires(*READERS)
    @blp.response(200, PeriodView)
    def get(self, year: int) -> Any:
        """A period: its window, rubric, departments, and whether it is published."""
        with reading(engine()) as conn:
            return _period_view(conn, standing.period_row(conn, year))


@blp.route("/<int:year>/scorecards")
class Standings(MethodView):
    @requires(*READERS)
    @blp.response(200, StandingView)
    def get(self, year: int) -> Any:
        """Live scorecards, ranked (a published period: what its latest versions say, and the live figures)."""
        with reading(engine()) as conn:
            live = standing.standings(deps(), conn, year)
            latest = queries.latest(conn, live.period.period_id)
        rows = [
            {
                "department_id": card.department_id,
                "rank": rank,
                "score": rounded(card.total, 2),
                "groups": {g: rounded(p, 2) for g, p in card.group_points().items()},
                "indicators": card.indicators(),
                "published_version": latest[card.department_id].version if card.department_id in latest else None,
            }
            for rank, card in live.ranked
            if may_see(card.department_id)
        ]
        return {
            "year": year,
            "status": "published" if latest else "open",
            "as_of": live.window.as_of,
            "rubric_version": live.rubric.version,
            "scorecards": rows,
        }


@blp.route("/<int:year>/programme")
class Programme(MethodView):
    @requires(*READERS)
    @blp.response(200, ProgrammeView)
    def get(self, year: int) -> Any:
        """The rollout programme (plan, rules, embedding, review, assessment, with dates) and who delivered what."""
        with reading(engine()) as conn:
            body = standing.programme(deps(), conn, year)
        body["departments"] = [d for d in body["departments"] if may_see(d["department_id"])]
        return body


@blp.route("/<int:year>/publication")
class Publication(MethodView):
    @requires(*MANAGERS)
    @idempotent
    @located(lambda _, year: url_for("periods.Standings", year=year))
    @blp.response(201, Done)
    def post(self, year: int) -> Any:
        """Publish every department's scorecard (ScorecardPublished, version 1); later changes are new versions."""
        count = periods.publish(deps(), current_tx(), PublishScorecards(year))
        return {"count": count}


@blp.route("/<int:year>/revision")
class Revision(MethodView):
    @requires(*MANAGERS)
    @idempotent
    @blp.response(200, Done)
    def post(self, year: int) -> Any:
        """Check a published period now (the worker does it every few minutes): revise what moved."""
        count = periods.revise(deps(), current_tx(), ReviseScorecards(year))
        return {"count": count}


# -- one department -------------------------------------------------------------------------------
@blp.route("/<int:year>/departments/<uuid:department_id>/explain")
class Explain(MethodView):
    @requires(*READERS)
    @blp.response(200, ExplainView)
    def get(self, year: int, department_id: uuid.UUID) -> Any:
        """Every indicator of one department: raw figure, the events it came from, normalised value, weight, points."""
        department = visible_department(department_id)
        with reading(engine()) as conn:
            return standing.explain(deps(), conn, year, department)


@blp.route("/<int:year>/departments/<uuid:department_id>/versions")
class Versions(MethodView):
    @requires(*READERS)
    @blp.response(200, VersionList)
    def get(self, year: int, department_id: uuid.UUID) -> Any:
        """The published versions of one department's scorecard, each with its differences from the last."""
        department = visible_department(department_id)
        with reading(engine()) as conn:
            period = standing.period_row(conn, year)
            return {"versions": queries.versions(conn, period.period_id, department)}


@blp.route("/<int:year>/departments/<uuid:department_id>/external-evaluation")
class ExternalEvaluation(MethodView):
    @requires(*MANAGERS)
    @blp.arguments(ExternalRequest)
    @idempotent
    @blp.response(200, ExplainView)
    def put(self, evaluation: commands.ExternalEvaluation, year: int, department_id: uuid.UUID) -> Any:
        """Enter (or correct) a department's external evaluation score (外部评议, out of 100)."""
        conn = current_tx()
        command = RecordExternalEvaluation(year, str(department_id), evaluation)
        periods.record_external(deps(), conn, command)
        return standing.explain(deps(), conn, year, command.department_id)


@blp.route("/<int:year>/departments/<uuid:department_id>/deliverables")
class Deliverables(MethodView):
    @requires(*READERS)
    @blp.response(200, DeliverableList)
    def get(self, year: int, department_id: uuid.UUID) -> Any:
        """The rollout deliverables a department recorded, with their due dates."""
        department = visible_department(department_id)
        with reading(engine()) as conn:
            return _deliverables(conn, year, department)

    @requires(OFFICER, *MANAGERS)
    @blp.arguments(DeliverableRequest)
    @idempotent
    @located(lambda _, year, department_id: url_for("periods.Deliverables", year=year, department_id=department_id))
    @blp.response(201, DeliverableList)
    def post(self, report: DeliverableReport, year: int, department_id: uuid.UUID) -> Any:
        """Record a deliverable of the rollout programme (plan filed, working group, rules, training)."""
        command = RecordDeliverable(year, str(department_id), report)
        if not current_principal().has_role(*MANAGERS):
            ensure_department(command.department_id, not_found=NotFound("department", "部门", command.department_id))
        conn = current_tx()
        periods.record_deliverable(deps(), conn, command)
        return _deliverables(conn, year, command.department_id)


def _deliverables(conn: Connection, year: int, department: str) -> dict[str, object]:
    period = standing.period_row(conn, year)
    due = standing.due_dates(standing.rubric_of(deps(), period.rubric), year)
    rows = queries.deliverables_of(conn, period.period_id, department)
    return {"deliverables": [{**asdict(row), "due_on": due.get(row.deliverable)} for row in rows]}
