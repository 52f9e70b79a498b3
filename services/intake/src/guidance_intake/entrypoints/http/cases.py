"""Enforcement cases (行政执法案件) over HTTP: translate requests to commands and back, and say who may do what.

Roles: officers (执法人员) open and close cases; reviewers record the legal review (法制审核);
supervisors (负责人) decide and revoke; auditors read; admins may act for any department. A caller
reads and changes only the cases of its own departments (other departments' cases read as 404).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import url_for
from flask.views import MethodView
from marshmallow import Schema

from guidance_intake import handlers
from guidance_intake.domain.case import Case
from guidance_intake.entrypoints.http import context
from guidance_intake.entrypoints.http.guidance import etag
from guidance_intake.entrypoints.http.schemas import (
    CaseView,
    CloseCaseRequest,
    DecideCaseRequest,
    EndRequest,
    LegalReviewRequest,
    OpenCaseRequest,
    close_case_command,
    decide_case_command,
    open_case_command,
    record_legal_review_command,
    revoke_decision_command,
)
from guidance_shared.auth import ADMIN, OFFICER, READERS, REVIEWER, SUPERVISOR, ensure_department, load_own, requires
from guidance_shared.errors import NotFound
from guidance_shared.web import CONDITIONAL, Blueprint, current_tx, idempotent, if_match

cases_blp = Blueprint("cases", __name__, url_prefix="/v1/cases", description="行政执法案件 enforcement cases")


def own_case(case_id: object) -> Case:
    """Load a case of one of the caller's departments (another department's reads as missing)."""

    def load() -> Case:
        with context.reading() as conn:
            return context.deps().cases.load(conn, str(case_id))

    return load_own(load, NotFound("enforcement case", "执法案件", str(case_id)))


#: Built once, as ``guidance._ISSUE_REQUEST``: webargs would build one per request from the class.
_OPEN_REQUEST = OpenCaseRequest()


@cases_blp.route("")
class CaseCollection(MethodView):
    @requires(OFFICER, ADMIN)
    @cases_blp.arguments(_OPEN_REQUEST)
    @context.replays_recorded("case_id")
    @idempotent
    @cases_blp.response(201, CaseView)
    def post(self, loaded: Mapping[str, Any]) -> Any:
        """Open an enforcement case (立案)."""
        cmd = open_case_command(_OPEN_REQUEST.dump(loaded))
        ensure_department(cmd.department_id)
        case = handlers.open_case(context.deps(), current_tx(), cmd)
        context.record_person_answer(case.details, case.case_id, shaped_as="CaseOpened")
        location = url_for("cases.CaseItem", case_id=case.case_id)
        return context.shown_case(case), 201, {"Location": location, **etag(case.version)}


@cases_blp.route("/<uuid:case_id>")
class CaseItem(MethodView):
    @requires(*READERS)
    @cases_blp.response(200, CaseView)
    def get(self, case_id: object) -> Any:
        """Read a case with its legal review, decision, revocations and closing."""
        case = own_case(case_id)
        context.record_person_read("getCaseItem", case.details, case.case_id)
        return context.shown_case(case), 200, etag(case.version)


def _case_command(
    name: str,
    schema: type[Schema],
    roles: tuple[str, ...],
    command: Callable[[str, Mapping[str, Any]], Any],
    handler: Callable[..., Case],
    summary: str,
) -> None:
    request_schema = schema()  # built once per endpoint

    @requires(*roles)
    @cases_blp.arguments(request_schema)
    @context.replays_recorded("case_id")
    @idempotent
    @cases_blp.doc(**CONDITIONAL)
    @cases_blp.response(200, CaseView)
    def post(self: MethodView, loaded: Mapping[str, Any], case_id: object) -> Any:
        own_case(case_id)
        case = handler(
            context.deps(),
            current_tx(),
            command(str(case_id), request_schema.dump(loaded)),
            expected_version=if_match(),
        )
        context.record_person_answer(case.details, case.case_id, shaped_as="CaseOpened")
        return context.shown_case(case), 200, etag(case.version)

    post.__doc__ = summary
    view = type(f"Case{name.title().replace('-', '')}", (MethodView,), {"post": post})
    cases_blp.route(f"/<uuid:case_id>/{name}")(view)


_case_command(
    "legal-review",
    LegalReviewRequest,
    (REVIEWER, ADMIN),
    record_legal_review_command,
    handlers.record_legal_review,
    "Record the legal review (法制审核); a major decision needs an approving one first.",
)
_case_command(
    "decision",
    DecideCaseRequest,
    (SUPERVISOR, ADMIN),
    decide_case_command,
    handlers.decide_case,
    "Decide the case; exemption lists (免罚清单) and the legal-review rule are applied.",
)
_case_command(
    "revocation",
    EndRequest,
    (SUPERVISOR, ADMIN),
    revoke_decision_command,
    handlers.revoke_decision,
    "Revoke or change the decision (撤销); disclosure withdraws it within 3 days.",
)
_case_command(
    "closure",
    CloseCaseRequest,
    (OFFICER, SUPERVISOR, ADMIN),
    close_case_command,
    handlers.close_case,
    "Close the case (结案); a closed major case starts the revisit clock.",
)
