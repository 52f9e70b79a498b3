"""Guidance acts (行政指导) over HTTP: translate requests to commands and back, and say who may do what.

Roles: officers (执法人员) issue guidance and record responses and corrections; supervisors (负责人)
suspend and withdraw; auditors read; admins may act for any department. Every record belongs to a
department, and a caller reads and changes only the records of its own departments (other
departments' records read as 404).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import url_for
from flask.views import MethodView
from marshmallow import Schema

from guidance_intake import handlers
from guidance_intake.domain.guidance import Guidance
from guidance_intake.entrypoints.http import context
from guidance_intake.entrypoints.http.schemas import (
    EndRequest,
    GuidanceView,
    IssueGuidanceRequest,
    RecordResponseRequest,
    VerifyCorrectionRequest,
    issue_guidance_command,
    record_response_command,
    suspend_guidance_command,
    verify_correction_command,
    withdraw_guidance_command,
)
from guidance_shared.auth import ADMIN, OFFICER, READERS, SUPERVISOR, ensure_department, load_own, requires
from guidance_shared.errors import NotFound
from guidance_shared.web import CONDITIONAL, Blueprint, current_tx, idempotent, if_match

guidance_blp = Blueprint("guidance", __name__, url_prefix="/v1/guidance", description="行政指导 guidance acts")


#: The request schema, built once: given a class, webargs builds an instance for every request, and an instance
#: copies its fields and builds its nested schemas, costing as much again as the load. It also turns what it
#: loaded back into the contract's JSON values for the command.
_ISSUE_REQUEST = IssueGuidanceRequest()


def etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}


def own_guidance(guidance_id: object) -> Guidance:
    """Load a guidance act of one of the caller's departments (another department's reads as missing)."""

    def load() -> Guidance:
        with context.reading() as conn:
            return context.deps().guidance.load(conn, str(guidance_id))

    return load_own(load, NotFound("guidance act", "行政指导", str(guidance_id)))


@guidance_blp.route("")
class GuidanceCollection(MethodView):
    @requires(OFFICER, ADMIN)
    @guidance_blp.arguments(_ISSUE_REQUEST)
    @context.replays_recorded("guidance_id")
    @idempotent
    @guidance_blp.response(201, GuidanceView)
    def post(self, loaded: Mapping[str, Any]) -> Any:
        """Issue a guidance act (作出行政指导): legal basis, competence and form are checked; a 文号 is assigned."""
        cmd = issue_guidance_command(_ISSUE_REQUEST.dump(loaded))
        ensure_department(cmd.department_id)
        guidance = handlers.issue_guidance(context.deps(), current_tx(), cmd)
        context.record_person_answer(guidance.details, guidance.guidance_id, shaped_as="GuidanceIssued")
        location = url_for("guidance.GuidanceItem", guidance_id=guidance.guidance_id)
        return context.shown_guidance(guidance), 201, {"Location": location, **etag(guidance.version)}


@guidance_blp.route("/<uuid:guidance_id>")
class GuidanceItem(MethodView):
    @requires(*READERS)
    @guidance_blp.response(200, GuidanceView)
    def get(self, guidance_id: object) -> Any:
        """Read a guidance act with its status and version (send the version back in If-Match)."""
        guidance = own_guidance(guidance_id)
        context.record_person_read("getGuidanceItem", guidance.details, guidance.guidance_id)
        return context.shown_guidance(guidance), 200, etag(guidance.version)


def _guidance_command(
    name: str,
    schema: type[Schema],
    roles: tuple[str, ...],
    command: Callable[[str, Mapping[str, Any]], Any],
    handler: Callable[..., Guidance],
    summary: str,
) -> None:
    """One POST endpoint per guidance command: same shape, different rule."""
    request_schema = schema()  # built once per endpoint (see ``_ISSUE_REQUEST``)

    @requires(*roles)
    @guidance_blp.arguments(request_schema)
    @context.replays_recorded("guidance_id")
    @idempotent
    @guidance_blp.doc(**CONDITIONAL)
    @guidance_blp.response(200, GuidanceView)
    def post(self: MethodView, loaded: Mapping[str, Any], guidance_id: object) -> Any:
        own_guidance(guidance_id)
        guidance = handler(
            context.deps(),
            current_tx(),
            command(str(guidance_id), request_schema.dump(loaded)),
            expected_version=if_match(),
        )
        context.record_person_answer(guidance.details, guidance.guidance_id, shaped_as="GuidanceIssued")
        return context.shown_guidance(guidance), 200, etag(guidance.version)

    post.__doc__ = summary
    view = type(f"Guidance{name.title().replace('-', '')}", (MethodView,), {"post": post})
    guidance_blp.route(f"/<uuid:guidance_id>/{name}")(view)


_guidance_command(
    "response",
    RecordResponseRequest,
    (OFFICER, ADMIN),
    record_response_command,
    handlers.record_response,
    "Record the counterpart's response (相对人回应: accepted, declined, no response).",
)
_guidance_command(
    "correction-verification",
    VerifyCorrectionRequest,
    (OFFICER, ADMIN),
    verify_correction_command,
    handlers.verify_correction,
    "Record whether the counterpart corrected by the deadline (改正核查).",
)
_guidance_command(
    "suspension",
    EndRequest,
    (SUPERVISOR, ADMIN),
    suspend_guidance_command,
    handlers.suspend_guidance,
    "Suspend a guidance act (中止), e.g. while an objection is heard.",
)
_guidance_command(
    "withdrawal",
    EndRequest,
    (SUPERVISOR, ADMIN),
    withdraw_guidance_command,
    handlers.withdraw_guidance,
    "Withdraw a guidance act (撤回); its document number stays taken.",
)
