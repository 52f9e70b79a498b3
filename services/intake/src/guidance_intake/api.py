"""HTTP API of intake: translate HTTP to commands and back, nothing else."""

from __future__ import annotations

from typing import Any

from flask import current_app, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from guidance_intake import handlers
from guidance_shared.errors import GuidanceError
from guidance_shared.events.intake import GuidanceIssued
from guidance_shared.vocabulary import RESPONSES
from guidance_shared.web import current_request_id, current_tx, idempotent

blp = Blueprint("guidance", __name__, url_prefix="/v1/guidance", description="行政指导 guidance acts")

ISSUE_FIELDS_SET_BY_SERVER = ("guidance_id", "doc_no")


class IssueGuidanceRequest(GuidanceIssued):
    """A guidance act as a county system submits it; intake assigns id and document number."""

    class Meta(GuidanceIssued.Meta):
        exclude = ISSUE_FIELDS_SET_BY_SERVER

    issued_at = fields.AwareDateTime(
        load_default=None, metadata={"description": "作出时间; defaults to the time intake accepts the act"}
    )


class RecordResponseRequest(Schema):
    response = fields.String(
        required=True,
        validate=validate.OneOf(RESPONSES),
        metadata={"description": "accepted 接受 / declined 拒绝 / no_response 未回应"},
    )
    statement = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    responded_at = fields.AwareDateTime(load_default=None, allow_none=True)


class GuidanceView(Schema):
    guidance_id = fields.String(required=True)
    version = fields.Integer(required=True)
    status = fields.String(required=True)
    details = fields.Dict(required=True, metadata={"description": "The GuidanceIssued data"})
    response = fields.Dict(metadata={"description": "The GuidanceResponded data, once recorded"})


def _runtime() -> Any:
    return current_app.extensions["guidance"]["runtime"]


def _view(guidance: Any) -> dict[str, Any]:
    return {
        "guidance_id": guidance.guidance_id,
        "version": guidance.version,
        "status": guidance.status,
        "details": guidance.details,
        "response": guidance.response,
    }


def _if_match() -> int | None:
    """``If-Match: "3"`` carries the version the client last saw; a malformed one is a 400."""
    raw = request.headers.get("If-Match")
    if raw is None:
        return None
    try:
        return int(raw.strip().strip('"'))
    except ValueError:
        raise GuidanceError(
            code="bad-if-match",
            title_en="Malformed If-Match",
            title_zh="If-Match 格式错误",
            status=400,
            detail_en='If-Match must be the version in quotes, e.g. "2".',
            detail_zh='If-Match 应为带引号的版本号，例如 "2"。',
        ) from None


@blp.route("")
class GuidanceCollection(MethodView):
    @blp.arguments(IssueGuidanceRequest)
    @idempotent
    @blp.response(201, GuidanceView)
    def post(self, command: dict[str, Any]) -> Any:
        """Issue a guidance act (作出行政指导)."""
        runtime = _runtime()
        data = IssueGuidanceRequest().dump(command)
        guidance = handlers.issue_guidance(
            runtime.store, runtime.registry, current_tx(), data, correlation_id=current_request_id()
        )
        location = url_for("guidance.GuidanceItem", guidance_id=guidance.guidance_id)
        return _view(guidance), 201, {"Location": location}


@blp.route("/<uuid:guidance_id>")
class GuidanceItem(MethodView):
    @blp.response(200, GuidanceView)
    def get(self, guidance_id: Any) -> Any:
        """Read a guidance act with its current status and version."""
        guidance = handlers.load_guidance(_runtime().store, str(guidance_id))
        return _view(guidance), 200, {"ETag": f'"{guidance.version}"'}


@blp.route("/<uuid:guidance_id>/response")
class GuidanceResponse(MethodView):
    @blp.arguments(RecordResponseRequest)
    @idempotent
    @blp.response(200, GuidanceView)
    def post(self, command: dict[str, Any], guidance_id: Any) -> Any:
        """Record the counterpart's response (相对人回应); send If-Match to guard against stale writes."""
        runtime = _runtime()
        data = RecordResponseRequest().dump(command)
        guidance = handlers.record_response(
            runtime.store,
            runtime.registry,
            current_tx(),
            str(guidance_id),
            data,
            expected_version=_if_match(),
            correlation_id=current_request_id(),
        )
        return _view(guidance), 200, {"ETag": f'"{guidance.version}"'}
