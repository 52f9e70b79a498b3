"""A counterpart's history (行政管理相对人) over HTTP: its guidance acts and cases in the caller's departments."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask.views import MethodView

from guidance_intake.adapters import queries, read_model
from guidance_intake.entrypoints.http import context
from guidance_intake.entrypoints.http.schemas import CounterpartHistory, CounterpartQuery
from guidance_shared.auth import READERS, current_principal, requires
from guidance_shared.errors import GuidanceError
from guidance_shared.web import Blueprint

counterparts_blp = Blueprint(
    "counterparts", __name__, url_prefix="/v1/counterparts", description="行政管理相对人 counterparts"
)


@counterparts_blp.route("/history")
class CounterpartHistoryView(MethodView):
    @requires(*READERS)
    @counterparts_blp.arguments(CounterpartQuery)
    @counterparts_blp.response(200, CounterpartHistory)
    def post(self, query: Mapping[str, Any]) -> Any:
        """A counterpart's guidance acts and cases in the caller's departments (identifiers in the body, not a URL)."""
        if not query.get("uscc") and not (query.get("id_type") and query.get("id_no")):
            raise GuidanceError(
                code="counterpart-identifier-required",
                title_en="Identifier required",
                title_zh="缺少相对人标识",
                status=422,
                detail_en="Give uscc, or id_type and id_no.",
                detail_zh="请提供统一社会信用代码，或证件类型和证件号码。",
            )
        counterpart = {"uscc": query.get("uscc"), "id_type": query.get("id_type"), "id_no": query.get("id_no")}
        personal = context.deps().personal
        subject_id = personal.subject_id(counterpart) if personal is not None else None
        keys = read_model.counterpart_keys(counterpart, subject_id)
        with context.reading() as conn:
            entries = queries.history(conn, keys, current_principal().visible_departments())
        kind = _natural_person(counterpart)
        if kind is not None and entries:
            # A person's record of guidance and enforcement, found by their identifier, is their personal data:
            # one entry for the answer, with the number of records it lists (none when it lists nothing).
            context.record_person_read(
                context.answer_operation(), {"counterpart": {**counterpart, "kind": kind}}, None, count=len(entries)
            )
        return {"entries": entries}


#: GB 32100-2015: a credit code whose 登记管理部门 is 9 (market regulation) and 机构类别 2 is an individual business
INDIVIDUAL_BUSINESS_USCC = "92"


def _natural_person(counterpart: Mapping[str, Any]) -> str | None:
    """The counterpart kind a history query names when it names a natural person: an identity document is a
    person's, a credit code of an individual business its operator's; None for an organisation's code."""
    if counterpart.get("id_no"):
        return "person"
    if str(counterpart.get("uscc") or "").startswith(INDIVIDUAL_BUSINESS_USCC):
        return "individual_business"
    return None
