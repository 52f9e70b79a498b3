"""assessment's read API: a department's activity in a year, behind a bearer token (its own departments only)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, post_load, validate

from guidance_assessment.adapters import queries
from guidance_assessment.entrypoints.http.context import engine
from guidance_shared.auth import AUDITOR, READERS, SUPERVISOR, current_principal, ensure_department, requires
from guidance_shared.db import reading
from guidance_shared.errors import NotFound
from guidance_shared.web import Blueprint

activity = Blueprint(
    "activity", __name__, url_prefix="/v1/activity", description="部门年度工作量 events per department and year"
)

FIRST_YEAR, LAST_YEAR = 2000, 2100


@dataclass(frozen=True)
class Activity:
    """Which department, which year."""

    department_id: uuid.UUID
    year: int


class ActivityQuery(Schema):
    department_id = fields.UUID(required=True, metadata={"description": "实施机关编号"})
    year = fields.Integer(
        required=True,
        validate=validate.Range(min=FIRST_YEAR, max=LAST_YEAR),
        metadata={"description": "考核年度, by the date in China on which each event happened"},
    )

    @post_load
    def _query(self, data: Mapping[str, Any], **_: Any) -> Activity:
        return Activity(**data)


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
    def get(self, query: Activity) -> Any:
        """How many events of each kind a department caused in a year; zero counts are omitted."""
        department_id = str(query.department_id)
        if not current_principal().has_role(AUDITOR, SUPERVISOR):
            ensure_department(department_id, not_found=NotFound("department", "部门", department_id))
        with reading(engine()) as conn:
            events = queries.activity_counts(conn, department_id, query.year)
        return {"department_id": department_id, "year": query.year, "total": sum(events.values()), "events": events}
