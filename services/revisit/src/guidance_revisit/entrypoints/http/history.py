"""revisit's read API over its own history of guidance acts and cases."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields

from guidance_revisit.adapters import queries
from guidance_revisit.entrypoints.http.context import deps
from guidance_shared.auth import ADMIN, AUDITOR, OFFICER, REVIEWER, SUPERVISOR, ensure_department, requires
from guidance_shared.db import reading
from guidance_shared.errors import NotFound
from guidance_shared.web import Blueprint

history = Blueprint(
    "history", __name__, url_prefix="/v1/history", description="指导历史 what revisit knows of guidance acts and cases"
)


class CaseView(Schema):
    case_id = fields.String()
    case_no = fields.String()
    department_id = fields.String()
    major = fields.Boolean(metadata={"description": "重大案件: a closed major case is revisited"})
    procedure = fields.String()
    violation_category = fields.String()
    status = fields.String(metadata={"description": "open | closed"})
    outcome = fields.String(allow_none=True)
    opened_on = fields.Date()
    closed_on = fields.Date(allow_none=True)
    decision_revoked_on = fields.Date(allow_none=True)


class GuidanceHistoryView(Schema):
    guidance_id = fields.String()
    doc_no = fields.String()
    department_id = fields.String()
    content_type = fields.String()
    correction_deadline = fields.Date(allow_none=True)
    counterpart_kind = fields.String()
    counterpart_name = fields.String()
    status = fields.String(metadata={"description": "issued | suspended | withdrawn"})
    issued_at = fields.DateTime()
    status_changed_at = fields.DateTime(allow_none=True)
    related_case_id = fields.String(allow_none=True)
    related_case = fields.Nested(CaseView, allow_none=True, metadata={"description": "null until the case is known"})


@history.route("/guidance/<uuid:guidance_id>")
class GuidanceHistoryItem(MethodView):
    @requires(OFFICER, REVIEWER, SUPERVISOR, AUDITOR, ADMIN)
    @history.response(200, GuidanceHistoryView)
    def get(self, guidance_id: Any) -> Any:
        """One guidance act as revisit last heard of it, with its related case."""
        with reading(deps().engine) as conn:
            item = queries.guidance_item(conn, str(guidance_id))
        missing = NotFound("guidance act", "行政指导", str(guidance_id))
        if item is None:
            raise missing
        ensure_department(item["department_id"], not_found=missing)
        return item
