"""Erasing a natural person's data over HTTP (个人信息保护法第四十七条; docs/personal-data.md, "Erasure").

Only the system administrator (admin) may erase, for any department: an erasure reaches every record of the
person in every department, and cannot be undone. The token's subject is the requester; the body names the
approver, who must be someone else (four-eyes). The ID number travels in the body, never in the URL, so it
stays out of access logs and proxies; the answer names the person only by pseudonym.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, after_this_request, url_for
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from guidance_intake import handlers
from guidance_intake.adapters.erasures import forget_erased_pages
from guidance_intake.domain.commands import ErasePersonalData
from guidance_intake.entrypoints.http import context
from guidance_shared.auth import ADMIN, AUDITOR, current_principal, requires
from guidance_shared.errors import NotFound
from guidance_shared.vocabulary import ERASED_SUBJECT_KINDS, ERASURE_REASONS, VOCABULARIES
from guidance_shared.web import Blueprint, current_tx, idempotent
from guidance_shared.web.strict import StrictBody

erasures_blp = Blueprint(
    "erasures",
    __name__,
    url_prefix="/v1/personal-data/erasures",
    description="删除个人信息 erasing a natural person's data",
)

_REASONS = " · ".join(f"{code} {label}" for code, label in VOCABULARIES["erasure_reasons"].items())


class EraseRequest(StrictBody):
    id_no = fields.String(
        validate=validate.Length(min=1, max=64),
        metadata={"description": "自然人的身份证件号码（与 uscc 二者择一）；个体工商户经营者亦按其身份证件号码"},
    )
    uscc = fields.String(
        validate=validate.Length(min=1, max=64),
        metadata={"description": "仅有统一社会信用代码的个体工商户（与 id_no 二者择一）"},
    )
    legal_reason = fields.String(
        required=True,
        validate=validate.OneOf(ERASURE_REASONS),
        metadata={"description": f"删除依据（个人信息保护法第四十七条）：{_REASONS}"},
    )
    approver = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "批准人（账号或姓名），不得为申请人本人"},
    )


class ErasureView(Schema):
    erasure_id = fields.UUID(required=True, metadata={"description": "删除记录编号（由主体假名导出）"})
    subject_id = fields.String(required=True, metadata={"description": "主体假名（64 位十六进制）"})
    subject_kind = fields.String(
        required=True, validate=validate.OneOf(ERASED_SUBJECT_KINDS), metadata={"description": "主体类别"}
    )
    key_ids = fields.List(fields.String(), required=True, metadata={"description": "删除的数据密钥编号"})
    legal_reason = fields.String(required=True, metadata={"description": "删除依据"})
    requested_by = fields.String(required=True, metadata={"description": "申请人"})
    approved_by = fields.String(required=True, metadata={"description": "批准人"})
    erased_at = fields.String(required=True, metadata={"description": "删除时间 (RFC 3339)"})


class ErasureAnswer(ErasureView):
    repeated = fields.Boolean(required=True, metadata={"description": "true：该主体此前已被删除，所示为首次删除的记录"})


def erasure_command(body: Mapping[str, Any], requested_by: str) -> ErasePersonalData:
    return ErasePersonalData(
        legal_reason=str(body["legal_reason"]),
        approver=str(body["approver"]),
        requested_by=requested_by,
        id_no=body.get("id_no"),
        uscc=body.get("uscc"),
    )


def erasure_answer(erasure: handlers.Erasure) -> dict[str, Any]:
    return {**erasure.subject.erasure, "repeated": not erasure.first}


#: what the documented example erases: the event catalogue's fictitious person (张伟 of
#: ``guidance_shared.events.examples.PERSON``), whom a client must first have recorded an act about
_EXAMPLE = {"id_no": "410102198503124517", "legal_reason": "request", "approver": "supervisor-1"}


@erasures_blp.route("")
class ErasureCollection(MethodView):
    @requires(ADMIN)
    @erasures_blp.arguments(EraseRequest, example=_EXAMPLE)
    @idempotent
    @erasures_blp.response(201, ErasureAnswer)
    @erasures_blp.alt_response(200, schema=ErasureAnswer, description="该主体此前已被删除：首次删除的记录")
    def post(self, body: Mapping[str, Any]) -> Any:
        """Erase a natural person's data: their data keys are deleted, so every field sealed under them reads
        ［已删除］ from now on, and PersonalDataErased is recorded (pseudonym, key ids, legal reason, requester,
        approver; no personal data). Erasing the same person again records nothing and answers 200 with the first
        erasure. Name the person by `id_no`, or an individual business known only by its credit code by `uscc`.
        """
        cmd = erasure_command(body, current_principal().subject)
        erasure = handlers.erase_personal_data(context.deps(), current_tx(), cmd)
        if erasure.first:  # once the erasure has committed, which the answer waits for
            after_this_request(_forget_erased_pages)
        location = url_for("erasures.ErasureItem", subject_id=erasure.subject.erasure["subject_id"])
        return erasure_answer(erasure), 201 if erasure.first else 200, {"Location": location}


@erasures_blp.route("/<string(length=64):subject_id>")
class ErasureItem(MethodView):
    @requires(ADMIN, AUDITOR)
    @erasures_blp.response(200, ErasureView)
    def get(self, subject_id: str) -> Any:
        """Read the erasure of a subject, by their pseudonym (as PersonalDataErased names them); 404 if not erased."""
        with context.reading() as conn:
            found = handlers.erasure_of(context.deps(), conn, subject_id)
        if found is None:
            raise NotFound("erasure", "个人信息删除记录", subject_id)
        return found.erasure


def _forget_erased_pages(response: Response) -> Response:
    forget_erased_pages(context.engine())
    return response
