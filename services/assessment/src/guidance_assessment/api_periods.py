"""assessment's API: periods, live standings and published scorecards, explanations, external
evaluation scores and the rollout programme's deliverables, behind bearer tokens.

Who sees what: auditors (审计/考核办), supervisors (法制部门) and admins see every department; any other
role sees only the departments in its token (its own scorecard, with the rank it holds among all).
Supervisors and admins open and publish periods and enter external scores; a department's officers
record its own deliverables (supervisors and admins may record them for any department).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate, validates_schema
from marshmallow import ValidationError as MarshmallowValidationError

from guidance_assessment import handlers
from guidance_assessment.adapters import read_model
from guidance_assessment.domain.rubric import Rubric
from guidance_assessment.domain.scoring import rounded
from guidance_assessment.service import assessments_of
from guidance_shared.auth import (
    ADMIN,
    AUDITOR,
    OFFICER,
    READERS,
    SUPERVISOR,
    current_principal,
    ensure_department,
    requires,
)
from guidance_shared.errors import NotFound
from guidance_shared.web import current_request_id, current_tx, idempotent

OVERSEERS = (AUDITOR, SUPERVISOR, ADMIN)
MANAGERS = (SUPERVISOR, ADMIN)
FIRST_YEAR, LAST_YEAR = 2000, 2100

blp = Blueprint(
    "periods", __name__, url_prefix="/v1/assessment/periods", description="考核评比 the year-end assessment"
)


# -- schemas ---------------------------------------------------------------------------------------
class OpenPeriodRequest(Schema):
    year = fields.Integer(required=True, validate=validate.Range(min=FIRST_YEAR, max=LAST_YEAR))
    starts_on = fields.Date(load_default=None, metadata={"description": "统计起始日（默认1月1日）"})
    ends_on = fields.Date(load_default=None, metadata={"description": "统计截止日（默认12月31日）"})
    department_ids = fields.List(
        fields.UUID(),
        load_default=list,
        validate=validate.Length(max=500),
        metadata={"description": "参评机关；空为全部"},
    )

    @validates_schema
    def _window(self, data: dict[str, Any], **_: Any) -> None:
        year, starts, ends = data["year"], data.get("starts_on"), data.get("ends_on")
        for name in ("starts_on", "ends_on"):
            day = data.get(name)
            if day is not None and abs(day.year - year) > 1:
                raise MarshmallowValidationError("Must lie near the year. 统计区间须在考核年度内。", field_name=name)
        if starts and ends and ends < starts:
            raise MarshmallowValidationError(
                "Must not be before starts_on. 截止日不得早于起始日。", field_name="ends_on"
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


class ExternalRequest(Schema):
    score = fields.Float(required=True, validate=validate.Range(min=0, max=100), metadata={"description": "百分制"})
    method = fields.String(required=True, validate=validate.Length(min=1, max=100))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class DeliverableRequest(Schema):
    deliverable = fields.String(
        required=True, validate=validate.Length(min=1, max=64), metadata={"description": "e.g. plan_filed"}
    )
    done_on = fields.Date(required=True)
    evidence = fields.String(required=True, validate=validate.Length(min=1, max=1000))


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
def _assessments() -> handlers.Assessments:
    return assessments_of(current_app.extensions["guidance"]["runtime"])


def _engine() -> Any:
    return current_app.extensions["guidance"]["runtime"].engine


def _may_see(department_id: str) -> bool:
    principal = current_principal()
    return principal.has_role(*OVERSEERS) or principal.may_access(department_id)


def _period_view(conn: Any, period: dict[str, Any]) -> dict[str, Any]:
    published = bool(read_model.latest(conn, period["period_id"]))
    return {**period, "status": "published" if published else "open"}


def _due_dates(rubric: Rubric, year: int) -> dict[str, Any]:
    return {code: date.fromisoformat(f"{year}-{due}") for code, due in rubric.deliverables.items()}


# -- periods ------------------------------------------------------------------------------------
@blp.route("")
class Periods(MethodView):
    @requires(*MANAGERS)
    @blp.arguments(OpenPeriodRequest)
    @idempotent
    @blp.response(201, PeriodView)
    def post(self, command: dict[str, Any]) -> Any:
        """Open a year for scoring under the configured rubric, which the period then keeps."""
        conn = current_tx()
        handlers.open_period(_assessments(), conn, command, correlation_id=current_request_id())
        return _period_view(conn, handlers.period_row(conn, command["year"]))


@blp.route("/<int:year>")
class PeriodItem(MethodView):
    @requires(*READERS)
    @blp.response(200, PeriodView)
    def get(self, year: int) -> Any:
        """A period: its window, rubric, departments, and whether it is published."""
        with _engine().connect() as conn:
            return _period_view(conn, handlers.period_row(conn, year))


@blp.route("/<int:year>/scorecards")
class Standings(MethodView):
    @requires(*READERS)
    @blp.response(200, StandingView)
    def get(self, year: int) -> Any:
        """Live scorecards, ranked (a published period: what its latest versions say, and the live figures)."""
        with _engine().connect() as conn:
            standing = handlers.standings(_assessments(), conn, year)
            latest = read_model.latest(conn, standing.period["period_id"])
        rows = [
            {
                "department_id": card.department_id,
                "rank": rank,
                "score": rounded(card.total, 2),
                "groups": {g: rounded(p, 2) for g, p in card.group_points().items()},
                "indicators": card.indicators(),
                "published_version": latest[card.department_id]["version"] if card.department_id in latest else None,
            }
            for rank, card in standing.ranked
            if _may_see(card.department_id)
        ]
        return {
            "year": year,
            "status": "published" if latest else "open",
            "as_of": standing.window.as_of,
            "rubric_version": standing.rubric.version,
            "scorecards": rows,
        }


@blp.route("/<int:year>/programme")
class Programme(MethodView):
    @requires(*READERS)
    @blp.response(200, ProgrammeView)
    def get(self, year: int) -> Any:
        """The rollout programme (plan, rules, embedding, review, assessment, with dates) and who delivered what."""
        with _engine().connect() as conn:
            body = handlers.programme(_assessments(), conn, year)
        body["departments"] = [d for d in body["departments"] if _may_see(d["department_id"])]
        return body


@blp.route("/<int:year>/publication")
class Publication(MethodView):
    @requires(*MANAGERS)
    @idempotent
    @blp.response(201, Done)
    def post(self, year: int) -> Any:
        """Publish every department's scorecard (ScorecardPublished, version 1); later changes are new versions."""
        return {"count": handlers.publish(_assessments(), current_tx(), year, correlation_id=current_request_id())}


@blp.route("/<int:year>/revision")
class Revision(MethodView):
    @requires(*MANAGERS)
    @idempotent
    @blp.response(200, Done)
    def post(self, year: int) -> Any:
        """Check a published period now (the worker does it every few minutes): revise what moved."""
        return {"count": handlers.revise(_assessments(), current_tx(), year, correlation_id=current_request_id())}


# -- one department -------------------------------------------------------------------------------
def _department(year: int, department_id: Any) -> str:
    department = str(department_id)
    if not _may_see(department):
        raise NotFound("scorecard", "记分卡", department)
    return department


@blp.route("/<int:year>/departments/<uuid:department_id>/explain")
class Explain(MethodView):
    @requires(*READERS)
    @blp.response(200, ExplainView)
    def get(self, year: int, department_id: Any) -> Any:
        """Every indicator of one department: raw figure, the events it came from, normalised value, weight, points."""
        department = _department(year, department_id)
        with _engine().connect() as conn:
            return handlers.explain(_assessments(), conn, year, department)


@blp.route("/<int:year>/departments/<uuid:department_id>/versions")
class Versions(MethodView):
    @requires(*READERS)
    @blp.response(200, VersionList)
    def get(self, year: int, department_id: Any) -> Any:
        """The published versions of one department's scorecard, each with its differences from the last."""
        department = _department(year, department_id)
        with _engine().connect() as conn:
            period = handlers.period_row(conn, year)
            return {"versions": read_model.versions(conn, period["period_id"], department)}


@blp.route("/<int:year>/departments/<uuid:department_id>/external-evaluation")
class ExternalEvaluation(MethodView):
    @requires(*MANAGERS)
    @blp.arguments(ExternalRequest)
    @idempotent
    @blp.response(200, ExplainView)
    def put(self, command: dict[str, Any], year: int, department_id: Any) -> Any:
        """Enter (or correct) a department's external evaluation score (外部评议, out of 100)."""
        conn = current_tx()
        handlers.record_external(
            _assessments(), conn, year, str(department_id), command, correlation_id=current_request_id()
        )
        return handlers.explain(_assessments(), conn, year, str(department_id))


@blp.route("/<int:year>/departments/<uuid:department_id>/deliverables")
class Deliverables(MethodView):
    @requires(*READERS)
    @blp.response(200, DeliverableList)
    def get(self, year: int, department_id: Any) -> Any:
        """The rollout deliverables a department recorded, with their due dates."""
        department = _department(year, department_id)
        with _engine().connect() as conn:
            return _deliverables(conn, year, department)

    @requires(OFFICER, *MANAGERS)
    @blp.arguments(DeliverableRequest)
    @idempotent
    @blp.response(201, DeliverableList)
    def post(self, command: dict[str, Any], year: int, department_id: Any) -> Any:
        """Record a deliverable of the rollout programme (plan filed, working group, rules, training)."""
        department = str(department_id)
        principal = current_principal()
        if not principal.has_role(*MANAGERS):
            ensure_department(department)
        conn = current_tx()
        handlers.record_deliverable(
            _assessments(), conn, year, department, command, correlation_id=current_request_id()
        )
        return _deliverables(conn, year, department)


def _deliverables(conn: Any, year: int, department: str) -> dict[str, Any]:
    period = handlers.period_row(conn, year)
    due = _due_dates(handlers.rubric_of(_assessments(), period["rubric"]), year)
    rows = read_model.deliverables_of(conn, period["period_id"], department)
    return {"deliverables": [{**row, "due_on": due.get(row["deliverable"])} for row in rows]}
