"""The dashboard (看板): a server-rendered page of inline SVG charts and tables, CSV/XLSX export of every
table, and each department's annual statistics report (年度统计报告, due 31 January).

Behind the same bearer token as the API (a portal or reverse proxy sends it); the page needs no
JavaScript, and its Content-Security-Policy allows none.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from flask import Response, render_template
from flask.views import MethodView
from marshmallow import Schema, fields, post_load, validate

from guidance_assessment.adapters import queries
from guidance_assessment.entrypoints.http import charts
from guidance_assessment.entrypoints.http.context import deps, engine, may_see, visible_department
from guidance_assessment.handlers.dashboard import LABELS, MONTHLY, TABLES, Table, annual_report, names, tables
from guidance_assessment.handlers.standing import standings
from guidance_shared.auth import READERS, requires
from guidance_shared.db import reading
from guidance_shared.spreadsheets import CSV_TYPE, XLSX_TYPE, to_csv, to_xlsx
from guidance_shared.web import Blueprint

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'"
)
FORMATS = ("csv", "xlsx")
TIMELINESS = ("revisit_coverage", "disclosure_on_time", "withdrawal_on_time")  # the percentages drawn

blp = Blueprint(
    "dashboard",
    __name__,
    url_prefix="/v1/assessment/periods",
    template_folder=str(Path(__file__).parents[2] / "templates"),
    description="考核看板 dashboard, exports and annual statistics reports",
)


@dataclass(frozen=True)
class Selection:
    """Whose months the page or table shows (None: every visible department), in which format."""

    department_id: uuid.UUID | None
    format: str = "json"


class DashboardQuery(Schema):
    department_id = fields.UUID(load_default=None, metadata={"description": "逐月指标只看这个机关"})

    @post_load
    def _selection(self, data: Mapping[str, Any], **_: Any) -> Selection:
        return Selection(**data)


class ExportQuery(DashboardQuery):
    format = fields.String(load_default="csv", validate=validate.OneOf(FORMATS))


class ReportQuery(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(("json", *FORMATS)))

    @post_load
    def _selection(self, data: Mapping[str, Any], **_: Any) -> Selection:
        return Selection(department_id=None, **data)


class ReportView(Schema):
    title = fields.String()
    headers = fields.List(fields.String(), metadata={"description": "栏目名（中文） the columns as people read them"})
    codes = fields.List(fields.String(), metadata={"description": "the same columns' stable keys"})
    rows = fields.List(fields.List(fields.Raw()))


#: the media types a table is downloaded as (``format=csv`` or ``xlsx``), as the OpenAPI names them
SHEETS = {
    CSV_TYPE: {"schema": {"type": "string"}},
    XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
}


def _download(table: Table, fmt: str, filename: str) -> Response:
    if fmt == "xlsx":
        hidden = table.hidden_positions()
        body = to_xlsx(table.headers, table.rows, title=table.name, codes=table.codes, hidden=hidden)
        mimetype = XLSX_TYPE
    else:
        body, mimetype = to_csv(table.headers, table.rows, codes=table.codes), CSV_TYPE
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'}
    )


def _num(cell: object) -> float | None:
    return float(cell) if isinstance(cell, int | float) else None


def _visible_department(department: uuid.UUID | None) -> str | None:
    return None if department is None else visible_department(department)


@blp.route("/<int:year>/dashboard")
class Dashboard(MethodView):
    @requires(*READERS)
    @blp.arguments(DashboardQuery, location="query")
    @blp.response(200, content_type="text/html", description="the dashboard page (HTML with inline SVG)")
    def get(self, query: Selection, year: int) -> Response:
        """Department scores, indicators over the months, revisit and disclosure timeliness, with exports."""
        department = _visible_department(query.department_id)
        with reading(engine()) as conn:
            found = tables(deps(), conn, year, may_see, department)
            standing = standings(deps(), conn, year)
            published = bool(queries.latest(conn, standing.period.period_id))
            named = names(deps(), conn)
        scores, monthly, timeliness = found["scores"], found["monthly"], found["timeliness"]
        name, score = scores.index("department"), scores.index("score")
        month, department_name = monthly.index("month"), timeliness.index("department")
        drawn = {
            "scores": charts.bars(
                "chart-scores", "部门得分", [(str(r[name]), _num(r[score]) or 0.0) for r in scores.rows]
            ),
            "monthly": charts.lines(
                "chart-monthly",
                "逐月指标（%）",
                [str(r[month]) for r in monthly.rows],
                [(LABELS[c], [_num(r[monthly.index(f"{c}_pct")]) for r in monthly.rows]) for c in MONTHLY],
            ),
            "timeliness": charts.grouped_bars(
                "chart-timeliness",
                "回访与公开及时性（%）",
                [LABELS[c] for c in TIMELINESS],
                [
                    (str(r[department_name]), [_num(r[timeliness.index(f"{c}_pct")]) for c in TIMELINESS])
                    for r in timeliness.rows
                ],
            ),
        }
        page = render_template(
            "dashboard.html",
            year=year,
            tables=found,
            charts=drawn,
            status="published" if published else "open",
            as_of=standing.window.as_of,
            rubric_name=standing.rubric.name,
            rubric_version=standing.rubric.version,
            report_due=date(year + 1, 1, 31),
            department_id=department,
            department_name=named.of(department) if department else None,
            base=f"/v1/assessment/periods/{year}",
        )
        response = Response(page, mimetype="text/html")
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


@blp.route("/<int:year>/tables/<any(scores, indicators, timeliness, monthly):name>")
class Export(MethodView):
    @requires(*READERS)
    @blp.arguments(ExportQuery, location="query")
    @blp.response(200, content_type=CSV_TYPE, description="the table as CSV (UTF-8 with BOM) or XLSX")
    @blp.doc(responses={"200": {"description": "the table as CSV (UTF-8 with BOM) or XLSX", "content": SHEETS}})
    def get(self, query: Selection, year: int, name: str) -> Response:
        """Any table of the dashboard as CSV or XLSX: scores, indicators, timeliness, monthly."""
        assert name in TABLES
        department = _visible_department(query.department_id)
        with reading(engine()) as conn:
            table = tables(deps(), conn, year, may_see, department)[name]
        return _download(table, query.format, f"assessment-{year}-{name}")


@blp.route("/<int:year>/departments/<uuid:department_id>/report")
class Report(MethodView):
    @requires(*READERS)
    @blp.arguments(ReportQuery, location="query")
    @blp.response(200, ReportView)
    @blp.doc(
        responses={
            "200": {
                "description": "the report as JSON, or with format=csv or xlsx as a sheet",
                "content": {"application/json": {"schema": ReportView}, **SHEETS},
            }
        }
    )
    def get(self, query: Selection, year: int, department_id: uuid.UUID) -> Any:
        """The department's annual statistics report (due 31 January): JSON, CSV or XLSX."""
        department = visible_department(department_id)
        with reading(engine()) as conn:
            table = annual_report(deps(), conn, year, department)
        if query.format != "json":
            return _download(table, query.format, f"report-{year}-{department}")
        rows = [[c.isoformat() if isinstance(c, date) else c for c in row] for row in table.rows]
        return {"title": table.title, "headers": list(table.headers), "codes": list(table.codes), "rows": rows}
