"""双公示 export: a department's published penalty decisions in the CF_* layout, as CSV or JSON.

For the department's exchange with the credit platform (信用中国), so it needs a token of that
department; the content is what is already public, in the platform's field names (``domain/credit.py``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any

from flask import Response, stream_with_context
from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from guidance_disclosure.adapters import queries
from guidance_disclosure.domain.credit import CODES, LAYOUT, penalty_row
from guidance_disclosure.entrypoints.http.context import reader
from guidance_shared.auth import READERS, ensure_department, requires
from guidance_shared.errors import NotFound
from guidance_shared.spreadsheets import CSV_TYPE, to_csv
from guidance_shared.web import Blueprint

blp = Blueprint("credit", __name__, url_prefix="/v1/credit", description="双公示 export for the credit platform")


class CreditQuery(Schema):
    department_id = fields.UUID(required=True)
    date_from = fields.Date(data_key="from", metadata={"description": "decided on or after (YYYY-MM-DD)"})
    date_to = fields.Date(data_key="to", metadata={"description": "decided on or before (YYYY-MM-DD)"})
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))

    @validates_schema
    def _from_not_after_to(self, data: Mapping[str, Any], **_kwargs: Any) -> None:
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError("'from' must not be after 'to'.", field_name="from")


class LayoutField(Schema):
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    length = fields.Integer(allow_none=True)
    required = fields.Boolean()


class Layout(Schema):
    fields_ = fields.List(fields.Nested(LayoutField), data_key="fields")


@blp.route("/penalties")
class PenaltyExport(MethodView):
    @requires(*READERS)
    @blp.arguments(CreditQuery, location="query")
    @blp.response(200, description="CF_* records: JSON {records: [...]} or CSV with the codes as header")
    def get(self, query: Mapping[str, Any]) -> Any:
        """Published penalty decisions (行政处罚) of one department in the 双公示 CF_* layout."""
        department = str(query["department_id"])
        ensure_department(department, not_found=NotFound("department", "部门", department))
        date_to = query.get("date_to")
        decided_from = query["date_from"].isoformat() if query.get("date_from") else None
        decided_before = (date_to + timedelta(days=1)).isoformat() if date_to else None

        def rows() -> Iterator[dict[str, Any]]:
            # Read while the response is sent: a department's years of decisions never sit in memory at once.
            with reader() as conn:
                for decision in queries.penalty_records(
                    conn, department, decided_from=decided_from, decided_before=decided_before
                ):
                    yield penalty_row(decision)

        if query["format"] == "csv":
            return Response(stream_with_context(_csv(rows())), content_type=CSV_TYPE + "; charset=utf-8")
        return Response(stream_with_context(_json(rows())), mimetype="application/json")


def _csv(rows: Iterator[Mapping[str, Any]], chunk: int = 500) -> Iterator[bytes]:
    """``to_csv`` of every row, ``chunk`` rows at a time: the BOM and the header once, then each chunk's lines
    as ``to_csv`` writes them (its output after the header it repeats)."""
    head = to_csv(CODES, [])
    yield head
    batch: list[list[Any]] = []
    for row in rows:
        batch.append([row[code] for code in CODES])
        if len(batch) == chunk:
            yield to_csv(CODES, batch)[len(head) :]
            batch = []
    if batch:
        yield to_csv(CODES, batch)[len(head) :]


def _json(rows: Iterator[Mapping[str, Any]]) -> Iterator[str]:
    """``{"layout": …, "records": […]}`` a record at a time. Not jsonify: it sorts keys, and the platform's
    field order is the layout's."""
    yield '{"layout": "双公示 行政处罚 2.0", "records": ['
    for n, row in enumerate(rows):
        yield (", " if n else "") + json.dumps(row, ensure_ascii=False)
    yield "]}"


@blp.route("/penalties/layout")
class PenaltyLayout(MethodView):
    @blp.response(200, Layout)
    def get(self) -> Any:
        """The CF_* field layout the export follows: code, name, type, maximum length, required."""
        return {"fields_": [f.__dict__ for f in LAYOUT]}
