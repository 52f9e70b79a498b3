"""assessment's read API: a department's activity in a year, behind a bearer token (its own departments only)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from guidance_shared.auth import AUDITOR, READERS, SUPERVISOR, current_principal, ensure_department, requires
from guidance_shared.errors import NotFound

activity = Blueprint(
    "activity", __name__, url_prefix="/v1/activity", description="部门年度工作量 events per department and year"
)

FIRST_YEAR, LAST_YEAR = 2000, 2100


class ActivityQuery(Schema):
    department_id = fields.UUID(required=True, metadata={"description": "实施机关编号"})
    year = fields.Integer(
        required=True,
        validate=validate.Range(min=FIRST_YEAR, max=LAST_YEAR),
        metadata={"description": "考核年度, by the date in China on which each event happened"},
    )


class ActivityView(Schema):
    department_id = fields.String()
    year = fields.Integer()
    total = fields.Integer(metadata={"description": "all counted events of the department in the year"})
    events = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "event name → count, e.g. GuidanceIssued: 230; only names that occurred"},
    )


@activity.route("")
class DepartmentActivity(MethodView):
    @requires(*READERS)
    @activity.arguments(ActivityQuery, location="query")
    @activity.response(200, ActivityView)
    def get(self, query: dict[str, Any]) -> Any:
        """How many events of each kind a department caused in a year; zero counts are omitted."""
        runtime = current_app.extensions["guidance"]["runtime"]
        department_id = str(query["department_id"])
        if not current_principal().has_role(AUDITOR, SUPERVISOR):
            ensure_department(department_id, not_found=NotFound("department", "部门", department_id))
        with runtime.engine.connect() as conn:
            events = runtime.projection.counts(conn, department_id, query["year"])
        return {"department_id": department_id, "year": query["year"], "total": sum(events.values()), "events": events}
