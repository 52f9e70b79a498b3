"""Public API of disclosure (no credentials): what a citizen may read."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from guidance_shared.errors import NotFound

public = Blueprint(
    "public_guidance", __name__, url_prefix="/public/v1/guidance", description="公开的行政指导 published guidance acts"
)


class LegalBasisOut(Schema):
    instrument = fields.String()
    article = fields.String()


class PublicGuidance(Schema):
    guidance_id = fields.String()
    doc_no = fields.String()
    department_id = fields.String()
    content_type = fields.String()
    domain = fields.String()
    form = fields.String()
    methods = fields.List(fields.String())
    counterpart_kind = fields.String()
    counterpart_name = fields.String(metadata={"description": "Natural persons' names are masked (张*)"})
    counterpart_uscc = fields.String(allow_none=True)
    matter = fields.String()
    legal_basis = fields.List(fields.Nested(LegalBasisOut))
    content = fields.String()
    rights_notice = fields.String()
    correction_deadline = fields.String(allow_none=True)
    issued_at = fields.String()
    status = fields.String()


@public.route("/<uuid:guidance_id>")
class PublicGuidanceItem(MethodView):
    @public.response(200, PublicGuidance)
    def get(self, guidance_id: Any) -> Any:
        """One published guidance act, redacted."""
        runtime = current_app.extensions["guidance"]["runtime"]
        with runtime.engine.connect() as conn:
            item = runtime.projection.public_item(conn, str(guidance_id))
        if item is None:
            raise NotFound("published guidance act", "公开的行政指导", str(guidance_id))
        return item
