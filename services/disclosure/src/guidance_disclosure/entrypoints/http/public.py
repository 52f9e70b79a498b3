"""Public API of disclosure (no credentials): what a citizen may read — guidance acts and case decisions."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from flask import request, url_for
from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from guidance_disclosure.adapters import queries
from guidance_disclosure.adapters.queries import COUNT_CAP, Page, SortKey, Window
from guidance_disclosure.entrypoints.http.caching import cacheable
from guidance_disclosure.entrypoints.http.context import reader
from guidance_shared.dates import china_today
from guidance_shared.errors import GuidanceError, NotFound
from guidance_shared.vocabulary import CONTENT_TYPES
from guidance_shared.web import Blueprint

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
#: Page numbers reach this many rows into a list (page × size); beyond, the "next" cursor walks on, which
#: costs the same on every page. A citizen's browser and most clients only ever follow "next".
MAX_OFFSET = 10_000

public = Blueprint(
    "public_guidance", __name__, url_prefix="/public/v1/guidance", description="公开的行政指导 published guidance acts"
)


class LegalBasisOut(Schema):
    instrument = fields.String()
    article = fields.String()


public_decisions = Blueprint(
    "public_decisions",
    __name__,
    url_prefix="/public/v1/decisions",
    description="公开的执法决定 published case decisions (penalty decisions within their display period)",
)
DECISION_KINDS = ("penalty_decision", "licensing_decision", "other_decision")
public.after_request(cacheable)
public_decisions.after_request(cacheable)


class FindingsOut(Schema):
    corrected = fields.Boolean(allow_none=True)
    conduct_ok = fields.Boolean()
    rights_explained = fields.Boolean()
    needs_guidance = fields.Boolean()


class PublicRevisit(Schema):
    kind = fields.String(allow_none=True)
    completed_on = fields.String()
    method = fields.String()
    findings = fields.Nested(FindingsOut)
    notes = fields.String(allow_none=True)


class PublicGuidance(Schema):
    guidance_id = fields.String()
    doc_no = fields.String()
    department_id = fields.String()
    department_name = fields.String(allow_none=True)
    initiated = fields.String(metadata={"description": "启动方式 own_initiative|on_application"})
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
    revisits = fields.List(fields.Nested(PublicRevisit), metadata={"description": "公开的核查、回访结果（详情中）"})


class PagedDates(Schema):
    """Dates and paging of the public lists; the JSON API and the HTML pages accept exactly the same input."""

    date_from = fields.Date(data_key="from", metadata={"description": "on or after (YYYY-MM-DD)"})
    date_to = fields.Date(data_key="to", metadata={"description": "on or before (YYYY-MM-DD)"})
    page = fields.Integer(
        validate=validate.Range(min=1),
        metadata={"description": f"page number, while page × size ≤ {MAX_OFFSET:,}; further on, follow `next`"},
    )
    size = fields.Integer(load_default=DEFAULT_PAGE_SIZE, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))
    cursor = fields.String(
        validate=validate.Length(max=300),
        metadata={"description": "where the page starts: the `next` of the previous page (opaque)"},
    )

    @validates_schema
    def _from_not_after_to(self, data: Mapping[str, Any], **_kwargs: Any) -> None:
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError("'from' must not be after 'to'.", field_name="from")

    @validates_schema
    def _one_way_to_page(self, data: Mapping[str, Any], **_kwargs: Any) -> None:
        if data.get("cursor") and data.get("page"):
            raise ValidationError("Give either 'page' or 'cursor', not both.", field_name="cursor")
        if data.get("page") and (data["page"] - 1) * data["size"] >= MAX_OFFSET:
            raise ValidationError(
                f"Page numbers reach the first {MAX_OFFSET:,} rows; follow the 'next' cursor further.",
                field_name="page",
            )
        if data.get("cursor"):
            decode_cursor(data["cursor"])


class PublicGuidanceQuery(PagedDates):
    """The guidance list's filters: issuing department, content type, issue dates."""

    department_id = fields.UUID(metadata={"description": "发布部门 issuing department"})
    content_type = fields.String(validate=validate.OneOf(CONTENT_TYPES), metadata={"description": "指导内容"})


def encode_cursor(key: SortKey) -> str:
    """The sort key of a page's last row as an opaque, URL-safe token (so its form may change)."""
    return base64.urlsafe_b64encode(json.dumps(list(key), ensure_ascii=False).encode()).decode().rstrip("=")


def decode_cursor(token: str) -> SortKey:
    try:
        key = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        key = None
    if not (isinstance(key, list) and len(key) == 2 and all(isinstance(part, str) and part for part in key)):
        raise ValidationError("Not a cursor this list gave out; start again from the first page.", field_name="cursor")
    return key[0], key[1]


def window(args: Mapping[str, Any]) -> Window:
    """The validated dates and page as the queries take them (``to`` includes that whole day)."""
    size = args["size"]
    date_from: date | None = args.get("date_from")
    date_to: date | None = args.get("date_to")
    return Window(
        department_id=str(args["department_id"]) if args.get("department_id") else None,
        since=date_from.isoformat() if date_from else None,
        before=(date_to + timedelta(days=1)).isoformat() if date_to else None,
        offset=(args.get("page", 1) - 1) * size,
        limit=size,
        after=decode_cursor(args["cursor"]) if args.get("cursor") else None,
    )


def paged(page: Page, args: Mapping[str, Any]) -> Mapping[str, object]:
    """The page and how to walk on: ``next`` is the cursor of the following page (null on the last one)."""
    size = args["size"]
    numbered = not args.get("cursor")
    return {
        "items": page.items,
        "pagination": {
            "page": args.get("page", 1) if numbered else None,
            "size": size,
            "total": page.total,
            "total_exact": page.total_exact,
            "pages": -(-page.total // size) if numbered and page.total_exact else None,
            "next": encode_cursor(page.next_after) if page.next_after else None,
        },
    }


def next_link(result: Mapping[str, Any]) -> dict[str, str]:
    """``Link: <…>; rel="next"`` (RFC 8288) with the same filters, for clients that follow links."""
    following = result["pagination"]["next"]
    if not following:
        return {}
    values: dict[str, Any] = {k: v for k, v in request.args.items() if k not in ("page", "cursor")}
    url = url_for(str(request.endpoint), **{**(request.view_args or {}), **values, "cursor": following})
    return {"Link": f'<{url}>; rel="next"'}


class PaginationOut(Schema):
    page = fields.Integer(allow_none=True, metadata={"description": "the page number asked for; null on a cursor"})
    size = fields.Integer()
    total = fields.Integer(metadata={"description": f"rows that match, counted up to {COUNT_CAP:,}"})
    total_exact = fields.Boolean(metadata={"description": f"false: more than {COUNT_CAP:,} rows match"})
    pages = fields.Integer(allow_none=True, metadata={"description": "null when the count is not exact"})
    next = fields.String(allow_none=True, metadata={"description": "the cursor of the next page; null on the last"})


class PublicGuidancePage(Schema):
    items = fields.List(fields.Nested(PublicGuidance))
    pagination = fields.Nested(PaginationOut)


def find_published(args: Mapping[str, Any]) -> Mapping[str, object]:
    with reader() as conn:
        page = queries.published_page(conn, window(args), content_type=args.get("content_type"))
    return paged(page, args)


@public.route("")
class PublicGuidanceList(MethodView):
    @public.arguments(PublicGuidanceQuery, location="query", as_kwargs=False)
    @public.response(200, PublicGuidancePage)
    def get(self, args: Mapping[str, Any]) -> Any:
        """Published guidance acts, newest first; withheld and withdrawn acts are never listed."""
        result = find_published(args)
        return result, 200, next_link(result)


@public.route("/<uuid:guidance_id>")
class PublicGuidanceItem(MethodView):
    @public.response(200, PublicGuidance)
    def get(self, guidance_id: Any) -> Any:
        """One published guidance act, redacted; withheld and withdrawn acts are not found."""
        with reader() as conn:
            item = queries.published_item(conn, str(guidance_id))
        if item is None:
            raise NotFound("published guidance act", "公开的行政指导", str(guidance_id))
        return item


class PublicDecision(Schema):
    case_id = fields.String()
    case_no = fields.String()
    kind = fields.String(metadata={"description": "penalty_decision | licensing_decision | other_decision"})
    decision_no = fields.String()
    decision = fields.String()
    department_id = fields.String()
    department_name = fields.String(allow_none=True)
    department_uscc = fields.String(allow_none=True)
    domain = fields.String()
    status = fields.String(
        metadata={"description": "published | withdrawn (revoked or changed: only its notice is shown)"}
    )
    withdrawal = fields.Nested(
        lambda: Withdrawal(), allow_none=True, metadata={"description": "撤回公告 (withdrawn decisions only)"}
    )
    counterpart_kind = fields.String(allow_none=True)
    counterpart_name = fields.String(
        allow_none=True, metadata={"description": "Natural persons' names are masked (张*); null when withdrawn"}
    )
    counterpart_uscc = fields.String(allow_none=True)
    legal_representative = fields.String(
        allow_none=True, metadata={"description": "an enterprise's legal representative, public (双公示 CF_FRDB)"}
    )
    violation_category = fields.String(allow_none=True)
    violation_description = fields.String(allow_none=True)
    penalty_kind = fields.String(allow_none=True, metadata={"description": "the principal penalty kind"})
    penalty_other_kinds = fields.List(fields.String(), metadata={"description": "kinds imposed with it (并处)"})
    amount_yuan = fields.String(allow_none=True)
    confiscated_yuan = fields.String(allow_none=True)
    penalty_description = fields.String(allow_none=True)
    legal_basis = fields.List(fields.Nested(LegalBasisOut))
    summary = fields.String(allow_none=True)
    decided_at = fields.String()
    disclosed_at = fields.String(allow_none=True)
    display_until = fields.String(allow_none=True, metadata={"description": "公示截止期 (penalty decisions)"})
    revisits = fields.List(fields.Nested(PublicRevisit), metadata={"description": "公开的回访结果（详情中）"})


class Withdrawal(Schema):
    withdrawn_on = fields.String(metadata={"description": "撤销或变更之日 (China calendar day)"})
    reason = fields.String(allow_none=True, metadata={"description": "撤回理由, redacted like every public text"})


class WithdrawalNotice(Schema):
    """Which decision, by whom, when, and why it was withdrawn."""

    case_id = fields.String()
    kind = fields.String()
    decision_no = fields.String()
    department_id = fields.String()
    department_name = fields.String(allow_none=True)
    decided_at = fields.String()
    status = fields.String(metadata={"description": "withdrawn"})
    withdrawal = fields.Nested(Withdrawal)


class WithdrawnDecision(Schema):
    """What 410 Gone carries at a withdrawn decision's address, besides the problem's own members."""

    withdrawal = fields.Nested(WithdrawalNotice)


class DecisionWithdrawn(GuidanceError):
    """A decision that was published and then revoked or changed: gone, with the notice the law asks for."""

    def __init__(self, notice: Mapping[str, Any]) -> None:
        withdrawal = notice["withdrawal"]
        super().__init__(
            code="decision-withdrawn",
            title_en="Decision withdrawn",
            title_zh="决定已撤回",
            status=410,
            detail_en=f"Decision {notice['decision_no']} was revoked or changed on {withdrawal['withdrawn_on']}.",
            detail_zh=f"{notice['decision_no']} 已于 {withdrawal['withdrawn_on']} 依法撤销或变更，原公示信息已撤回。",
            extra={"withdrawal": WithdrawalNotice().dump(notice)},
        )


class PublicDecisionQuery(PagedDates):
    """The decisions list's filters: deciding department, kind of decision, decision dates."""

    department_id = fields.UUID(metadata={"description": "作出决定的部门"})
    kind = fields.String(validate=validate.OneOf(DECISION_KINDS), metadata={"description": "决定类别"})


class PublicDecisionPage(Schema):
    items = fields.List(fields.Nested(PublicDecision))
    pagination = fields.Nested(PaginationOut)


def find_decisions(args: Mapping[str, Any]) -> Mapping[str, object]:
    """Display periods end on China's calendar day, whatever the server's zone."""
    with reader() as conn:
        page = queries.published_decisions(conn, china_today(), window(args), kind=args.get("kind"))
    return paged(page, args)


@public_decisions.route("")
class PublicDecisionList(MethodView):
    @public_decisions.arguments(PublicDecisionQuery, location="query", as_kwargs=False)
    @public_decisions.response(200, PublicDecisionPage)
    def get(self, args: Mapping[str, Any]) -> Any:
        """Published decisions, newest first; penalties leave the list when their display period ends."""
        result = find_decisions(args)
        return result, 200, next_link(result)


@public_decisions.route("/<uuid:case_id>")
class PublicDecisionItem(MethodView):
    @public_decisions.response(200, PublicDecision)
    @public_decisions.alt_response(
        410, schema=WithdrawnDecision, description="revoked or changed after publication: the withdrawal notice"
    )
    def get(self, case_id: Any) -> Any:
        """One published decision, redacted; a revoked or changed one is 410 Gone with its withdrawal notice
        (decision number, date, reason) while it would still have been listed; withheld and expired ones, and one
        revoked before it was published, are not found."""
        today = china_today()
        with reader() as conn:
            item = queries.published_decision(conn, str(case_id), today)
            notice = None if item is not None else queries.withdrawal_notice(conn, str(case_id), today)
        if notice is not None:
            raise DecisionWithdrawn(notice)
        if item is None:
            raise NotFound("published decision", "公开的执法决定", str(case_id))
        return item
