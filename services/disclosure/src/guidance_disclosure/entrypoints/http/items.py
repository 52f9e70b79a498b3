"""Officer-side API of disclosure items: the review queue, publishing, withholding, and where each item stands.

Reviewers decide what a rule flagged: publish it, or withhold it naming the exemption and its legal
basis. They may also take a published item down by withholding it (a trade secret noticed late).
Every item belongs to a department, and callers see only their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, post_load, validate

from guidance_disclosure.adapters import queries
from guidance_disclosure.domain.commands import PublishItem, WithholdItem
from guidance_disclosure.domain.item import STATES, DisclosureItem
from guidance_disclosure.entrypoints.http.context import connection, deps, reader
from guidance_disclosure.entrypoints.http.officers import officer, provisions
from guidance_disclosure.entrypoints.http.paging import OfficerPaging, after, officer_page
from guidance_disclosure.handlers import items as handlers
from guidance_disclosure.handlers.publications import publication_of
from guidance_shared.auth import ADMIN, READERS, REVIEWER, ensure_department, load_own, requires
from guidance_shared.errors import GuidanceError, NotFound
from guidance_shared.events.common import LegalBasis, Officer
from guidance_shared.vocabulary import DISCLOSURE_KINDS, EXEMPTIONS
from guidance_shared.web import CONDITIONAL, Blueprint, current_tx, idempotent, if_match
from guidance_shared.web.strict import StrictBody

blp = Blueprint(
    "items", __name__, url_prefix="/v1/items", description="公开事项 disclosure items: review queue and decisions"
)


class ItemQuery(OfficerPaging):
    department_id = fields.UUID(required=True)
    state = fields.String(
        load_default="in_review",
        validate=validate.OneOf((*STATES, "overdue", "all")),
        metadata={"description": "in_review (the review queue), disclosed, withheld, withdrawn, overdue, all"},
    )
    kind = fields.String(validate=validate.OneOf(DISCLOSURE_KINDS))


class FlagOut(Schema):
    rule = fields.String()
    label = fields.String()
    exemption = fields.String(allow_none=True)


class ItemRow(Schema):
    item_id = fields.String()
    subject_id = fields.String()
    department_id = fields.String()
    kind = fields.String()
    title = fields.String()
    state = fields.String(metadata={"description": "in_review, disclosed, withheld, withdrawn"})
    deadline = fields.Date(allow_none=True)
    deadline_estimated = fields.Boolean(
        metadata={
            "description": "预计：公开期限按预计的节假日安排计算（当年放假安排尚未公布），公布后重新计算。 "
            "The deadline was counted on an estimated holiday calendar; an item in review has it counted again "
            "when it is known."
        }
    )
    overdue = fields.Boolean()
    flags = fields.List(fields.Nested(FlagOut))
    exemption = fields.String(allow_none=True)
    disclosed_at = fields.String(allow_none=True)
    display_until = fields.Date(allow_none=True)
    withdrawal_deadline = fields.Date(allow_none=True)
    withdrawn_at = fields.String(allow_none=True)
    version = fields.Integer()


class ItemList(Schema):
    items = fields.List(fields.Nested(ItemRow))
    next = fields.String(allow_none=True, metadata={"description": "the cursor of the next page; null on the last"})


class PublishCommand(StrictBody):
    reviewed_by = fields.Nested(Officer, required=True)
    note = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=1000),
        metadata={"description": "审核意见"},
    )

    @post_load
    def _command(self, data: Mapping[str, Any], **_: Any) -> PublishItem:
        return PublishItem(reviewed_by=officer(data["reviewed_by"]), note=data.get("note"))


class WithholdCommand(StrictBody):
    exemption = fields.String(required=True, validate=validate.OneOf(EXEMPTIONS))
    legal_basis = fields.List(
        fields.Nested(LegalBasis),
        load_default=list,
        metadata={"description": "法律依据；不填时使用公开规则中该理由的依据"},
    )
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    decided_by = fields.Nested(Officer, required=True)

    @post_load
    def _command(self, data: Mapping[str, Any], **_: Any) -> WithholdItem:
        return WithholdItem(
            exemption=data["exemption"],
            reason=data["reason"],
            decided_by=officer(data["decided_by"]),
            legal_basis=provisions(data.get("legal_basis")),
        )


def _read(item_id: str) -> Mapping[str, Any]:
    with reader() as conn:
        row = queries.item_row(conn, item_id)
    if row is None:
        raise NotFound("disclosure item", "公开事项", item_id)
    return row


def _own(item_id: Any, *, in_command: bool = False) -> DisclosureItem:
    def load() -> DisclosureItem:
        with connection(in_command=in_command) as conn:
            return deps().items.repository.load(conn, str(item_id))

    return load_own(load, NotFound("disclosure item", "公开事项", str(item_id)))


@blp.route("")
class ItemCollection(MethodView):
    @requires(*READERS)
    @blp.arguments(ItemQuery, location="query")
    @blp.response(200, ItemList)
    def get(self, query: Mapping[str, Any]) -> Any:
        """A department's items by state; the default is the review queue, earliest deadline first.
        ``limit`` rows a page; follow ``next`` (or the ``Link`` header) for the following page."""
        department = str(query["department_id"])
        ensure_department(department, not_found=NotFound("department", "部门", department))
        with reader() as conn:
            page = queries.item_rows(
                conn,
                department,
                state=query["state"],
                kind=query.get("kind"),
                limit=query["limit"],
                after=after(query),
            )
        return officer_page("items", page)


@blp.route("/<uuid:item_id>")
class ItemResource(MethodView):
    @requires(*READERS)
    @blp.response(200, ItemRow)
    def get(self, item_id: Any) -> Any:
        """One item: its state, deadline, the rules that flagged it, and its version for If-Match."""
        item = _own(item_id)
        return _read(item.item_id), 200, {"ETag": f'"{item.version}"'}


@blp.route("/<uuid:item_id>/publish")
class ItemPublish(MethodView):
    @requires(REVIEWER, ADMIN)
    @blp.arguments(PublishCommand)
    @idempotent
    @blp.doc(**CONDITIONAL)
    @blp.response(200, ItemRow)
    def post(self, command: PublishItem, item_id: Any) -> Any:
        """Publish an item from the review queue, or one withheld on a relative exemption (consent, public interest)."""
        item = _own(item_id, in_command=True)
        items = deps().items
        publication = publication_of(items, current_tx(), item)
        if publication is None:
            raise GuidanceError(
                code="disclosure-rule",
                title_en="Nothing to publish yet",
                title_zh="暂无可公开的内容",
                status=409,
                detail_en="The act this item publishes is not in disclosure's projection (yet).",
                detail_zh="该公开事项所涉行为尚未同步到公开系统。",
            )
        published = handlers.publish(
            items,
            current_tx(),
            item.item_id,
            publication,
            command,
            expected_version=if_match(),
        )
        return _row_after(published), 200, {"ETag": f'"{published.version}"'}


@blp.route("/<uuid:item_id>/withhold")
class ItemWithhold(MethodView):
    @requires(REVIEWER, ADMIN)
    @blp.arguments(WithholdCommand)
    @idempotent
    @blp.doc(**CONDITIONAL)
    @blp.response(200, ItemRow)
    def post(self, command: WithholdItem, item_id: Any) -> Any:
        """Withhold an item, in review or already public, with its exemption and legal basis (条例第十四至十六条)."""
        item = _own(item_id, in_command=True)
        withheld = handlers.withhold(
            deps().items,
            current_tx(),
            item.item_id,
            command,
            expected_version=if_match(),
        )
        return _row_after(withheld), 200, {"ETag": f'"{withheld.version}"'}


def _row_after(item: DisclosureItem) -> Mapping[str, Any]:
    row = queries.item_row(current_tx(), item.item_id)
    assert row is not None
    return row
