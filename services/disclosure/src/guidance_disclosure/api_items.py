"""Officer-side API of disclosure items: the review queue, publishing, withholding, and where each item stands.

Reviewers decide what a rule flagged: publish it, or withhold it naming the exemption and its legal
basis. They may also take a published item down by withholding it (a trade secret noticed late).
Every item belongs to a department, and callers see only their own.
"""

from __future__ import annotations

import json
from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from guidance_disclosure import items_handlers as handlers
from guidance_disclosure.adapters.items_read_model import disclosure_items
from guidance_disclosure.domain.item import STATES, DisclosureItem
from guidance_disclosure.publisher import Publisher
from guidance_disclosure.service import items_of
from guidance_shared.auth import ADMIN, READERS, REVIEWER, ensure_department, load_own, requires
from guidance_shared.errors import GuidanceError, NotFound
from guidance_shared.events.common import LegalBasis, Officer
from guidance_shared.vocabulary import DISCLOSURE_KINDS, EXEMPTIONS
from guidance_shared.web import current_request_id, current_tx, idempotent, if_match

blp = Blueprint(
    "items", __name__, url_prefix="/v1/items", description="公开事项 disclosure items: review queue and decisions"
)


class ItemQuery(Schema):
    department_id = fields.UUID(required=True)
    state = fields.String(
        load_default="in_review",
        validate=validate.OneOf((*STATES, "overdue", "all")),
        metadata={"description": "in_review (the review queue), disclosed, withheld, withdrawn, overdue, all"},
    )
    kind = fields.String(validate=validate.OneOf(DISCLOSURE_KINDS))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


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
    state = fields.String()
    deadline = fields.Date(allow_none=True)
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


class PublishCommand(Schema):
    reviewed_by = fields.Nested(Officer, required=True)
    note = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=1000),
        metadata={"description": "审核意见"},
    )


class WithholdCommand(Schema):
    exemption = fields.String(required=True, validate=validate.OneOf(EXEMPTIONS))
    legal_basis = fields.List(
        fields.Nested(LegalBasis),
        load_default=list,
        metadata={"description": "法律依据；不填时使用公开规则中该理由的依据"},
    )
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    decided_by = fields.Nested(Officer, required=True)


def _items() -> handlers.Items:
    return items_of(current_app.extensions["guidance"]["runtime"])


def _row(mapping: Any) -> dict[str, Any]:
    row = dict(mapping)
    row["flags"] = json.loads(row["flags"]) if row.get("flags") else []
    return row


def _read(item_id: str) -> dict[str, Any]:
    runtime = current_app.extensions["guidance"]["runtime"]
    with runtime.engine.connect() as conn:
        row = conn.execute(select(disclosure_items).where(disclosure_items.c.item_id == item_id)).first()
    if row is None:
        raise NotFound("disclosure item", "公开事项", item_id)
    return _row(row._mapping)


def _own(item_id: Any, *, in_command: bool = False) -> DisclosureItem:
    return load_own(
        lambda: handlers.load(_items(), str(item_id), conn=current_tx() if in_command else None),
        NotFound("disclosure item", "公开事项", str(item_id)),
    )


@blp.route("")
class ItemCollection(MethodView):
    @requires(*READERS)
    @blp.arguments(ItemQuery, location="query")
    @blp.response(200, ItemList)
    def get(self, query: dict[str, Any]) -> Any:
        """A department's items by state; the default is the review queue, earliest deadline first."""
        department = str(query["department_id"])
        ensure_department(department, not_found=NotFound("department", "部门", department))
        table = disclosure_items
        statement = select(table).where(table.c.department_id == department)
        state = query["state"]
        if state == "overdue":
            statement = statement.where(table.c.overdue.is_(True), table.c.state == "in_review")
        elif state != "all":
            statement = statement.where(table.c.state == state)
        if query.get("kind"):
            statement = statement.where(table.c.kind == query["kind"])
        statement = statement.order_by(table.c.deadline, table.c.item_id).limit(query["limit"])
        runtime = current_app.extensions["guidance"]["runtime"]
        with runtime.engine.connect() as conn:
            return {"items": [_row(row._mapping) for row in conn.execute(statement)]}


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
    @blp.response(200, ItemRow)
    def post(self, command: dict[str, Any], item_id: Any) -> Any:
        """Publish an item from the review queue, or one withheld on a relative exemption (consent, public interest)."""
        item = _own(item_id, in_command=True)
        runtime = current_app.extensions["guidance"]["runtime"]
        projection = runtime.projection
        assert isinstance(projection, Publisher)
        publication = projection.publication_of(current_tx(), item)
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
            _items(),
            current_tx(),
            item.item_id,
            publication,
            PublishCommand().dump(command),
            expected_version=if_match(),
            correlation_id=current_request_id(),
        )
        return _row_after(published), 200, {"ETag": f'"{published.version}"'}


@blp.route("/<uuid:item_id>/withhold")
class ItemWithhold(MethodView):
    @requires(REVIEWER, ADMIN)
    @blp.arguments(WithholdCommand)
    @idempotent
    @blp.response(200, ItemRow)
    def post(self, command: dict[str, Any], item_id: Any) -> Any:
        """Withhold an item, in review or already public, with its exemption and legal basis (条例第十四至十六条)."""
        item = _own(item_id, in_command=True)
        withheld = handlers.withhold(
            _items(),
            current_tx(),
            item.item_id,
            WithholdCommand().dump(command),
            expected_version=if_match(),
            correlation_id=current_request_id(),
        )
        return _row_after(withheld), 200, {"ETag": f'"{withheld.version}"'}


def _row_after(item: DisclosureItem) -> dict[str, Any]:
    row = current_tx().execute(select(disclosure_items).where(disclosure_items.c.item_id == item.item_id)).first()
    assert row is not None
    return _row(row._mapping)
