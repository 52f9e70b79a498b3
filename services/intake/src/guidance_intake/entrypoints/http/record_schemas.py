"""Schemas of the records endpoints: the ledger's query, the document's, and the import's query and report."""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from guidance_shared.web import register_translation

LEDGER_MAX_YEARS = 3
_TO_BEFORE_FROM = "Must not be before from."
_RANGE_TOO_LONG = f"The range may span at most {LEDGER_MAX_YEARS} years; export it in parts."
register_translation(_TO_BEFORE_FROM, "结束日期不得早于开始日期（from）。")
register_translation(_RANGE_TOO_LONG, f"查询区间不得超过{LEDGER_MAX_YEARS}年，请分段导出。")


class LedgerQuery(Schema):
    """Which ledger (台账): a department and the issue dates, both ends included."""

    department_id = fields.UUID(required=True, metadata={"description": "部门编号"})
    from_ = fields.Date(required=True, data_key="from", metadata={"description": "作出日期起 (YYYY-MM-DD)"})
    to = fields.Date(required=True, metadata={"description": "作出日期止 (YYYY-MM-DD), at most 3 years after from"})
    format = fields.String(
        load_default=None,
        validate=validate.OneOf(("csv", "xlsx")),
        metadata={"description": "csv (default) or xlsx; without it the Accept header decides"},
    )

    @validates_schema
    def _range(self, data: dict[str, Any], **_: Any) -> None:
        first, last = data["from_"], data["to"]
        if last < first:
            raise ValidationError(_TO_BEFORE_FROM, field_name="to")
        limit = years_after(first, LEDGER_MAX_YEARS)
        if limit is not None and last >= limit:
            raise ValidationError(_RANGE_TOO_LONG, field_name="to")


def years_after(day: date, years: int) -> date | None:
    """The same calendar day ``years`` later (29 February → 1 March); None past the end of the calendar."""
    if day.year + years > date.max.year:
        return None
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


class DocumentQuery(Schema):
    format = fields.String(
        load_default="html",
        validate=validate.OneOf(("html",)),
        metadata={"description": "html, printable (print to PDF from the browser); no PDF is rendered here"},
    )


class ImportQuery(Schema):
    dry_run = fields.Boolean(
        load_default=False, metadata={"description": "Check every row, issue none, take no document number"}
    )


class TemplateQuery(Schema):
    format = fields.String(
        load_default="csv",
        validate=validate.OneOf(("csv", "xlsx")),
        metadata={"description": "csv (default, UTF-8 with BOM) or xlsx"},
    )


class ImportProblem(Schema):
    field = fields.String(metadata={"description": "The column (表头), or （整行） for the whole row"})
    message_en = fields.String()
    message_zh = fields.String()


class ImportRow(Schema):
    row = fields.Integer(metadata={"description": "Row number in the sheet; the header is row 1"})
    status = fields.String(metadata={"description": "issued, valid (dry run) or rejected"})
    guidance_id = fields.String()
    doc_no = fields.String(metadata={"description": "文号 assigned"})
    code = fields.String(metadata={"description": "Why a row was rejected, e.g. validation-failed, not-competent"})
    errors = fields.List(fields.Nested(ImportProblem))


class ImportReport(Schema):
    accepted = fields.Integer(metadata={"description": "Rows issued (or, in a dry run, that would be)"})
    rejected = fields.Integer()
    dry_run = fields.Boolean()
    rows = fields.List(fields.Nested(ImportRow))
