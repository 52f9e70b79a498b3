"""The dashboard (看板): a server-rendered page of inline SVG charts and tables, CSV/XLSX export of every
table, and each department's annual statistics report (年度统计报告, due 31 January).

Behind the same bearer token as the API (a portal or reverse proxy sends it); the page needs no
JavaScript, and its Content-Security-Policy allows none.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, current_app, render_template
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from guidance_assessment import charts
from guidance_assessment.adapters import read_model
from guidance_assessment.api_periods import _department, _may_see
from guidance_assessment.dashboard import LABELS, MONTHLY, TABLES, Table, annual_report, tables
from guidance_assessment.handlers import standings
from guidance_assessment.service import assessments_of
from guidance_shared.auth import READERS, requires
from guidance_shared.spreadsheets import CSV_TYPE, XLSX_TYPE, to_csv, to_xlsx

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'"
)
FORMATS = ("csv", "xlsx")

blp = Blueprint(
    "dashboard",
    __name__,
    url_prefix="/v1/assessment/periods",
    template_folder="templates",
    description="考核看板 dashboard, exports and annual statistics reports",
)


class DashboardQuery(Schema):
    department_id = fields.UUID(load_default=None, metadata={"description": "逐月指标只看这个机关"})


class ExportQuery(DashboardQuery):
    format = fields.String(load_default="csv", validate=validate.OneOf(FORMATS))


class ReportQuery(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(("json", *FORMATS)))


class ReportView(Schema):
    title = fields.String()
    headers = fields.List(fields.String())
    rows = fields.List(fields.List(fields.Raw()))


def _runtime() -> Any:
    return current_app.extensions["guidance"]["runtime"]


def _download(table: Table, fmt: str, filename: str) -> Response:
    if fmt == "xlsx":
        body, mimetype = to_xlsx(table.headers, table.rows, title=table.name), XLSX_TYPE
    else:
        body, mimetype = to_csv(table.headers, table.rows), CSV_TYPE
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'}
    )


def _num(cell: object) -> float | None:
    return float(cell) if isinstance(cell, int | float) else None


def _visible_department(year: int, department: Any) -> str | None:
    return None if department is None else _department(year, department)


@blp.route("/<int:year>/dashboard")
class Dashboard(MethodView):
    @requires(*READERS)
    @blp.arguments(DashboardQuery, location="query")
    @blp.response(200, content_type="text/html", description="the dashboard page (HTML with inline SVG)")
    def get(self, query: dict[str, Any], year: int) -> Response:
        """Department scores, indicators over the months, revisit and disclosure timeliness, with exports."""
        department = _visible_department(year, query["department_id"])
        runtime = _runtime()
        assessments = assessments_of(runtime)
        with runtime.engine.connect() as conn:
            found = tables(assessments, conn, year, _may_see, department)
            standing = standings(assessments, conn, year)
            published = bool(read_model.latest(conn, standing.period["period_id"]))
        scores, monthly, timeliness = found["scores"], found["monthly"], found["timeliness"]
        drawn = {
            "scores": charts.bars("chart-scores", "部门得分", [(str(r[1]), _num(r[3]) or 0.0) for r in scores.rows]),
            "monthly": charts.lines(
                "chart-monthly",
                "逐月指标（%）",
                [str(r[0]) for r in monthly.rows],
                [(LABELS[c], [_num(r[2 + i]) for r in monthly.rows]) for i, c in enumerate(MONTHLY)],
            ),
            "timeliness": charts.grouped_bars(
                "chart-timeliness",
                "回访与公开及时性（%）",
                ["处罚案件回访率", "按期公开率"],
                [(assessments.name_of(str(r[0])), [_num(r[1]), _num(r[3])]) for r in timeliness.rows],
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
    def get(self, query: dict[str, Any], year: int, name: str) -> Response:
        """Any table of the dashboard as CSV or XLSX: scores, indicators, timeliness, monthly."""
        assert name in TABLES
        department = _visible_department(year, query["department_id"])
        runtime = _runtime()
        with runtime.engine.connect() as conn:
            table = tables(assessments_of(runtime), conn, year, _may_see, department)[name]
        return _download(table, query["format"], f"assessment-{year}-{name}")


@blp.route("/<int:year>/departments/<uuid:department_id>/report")
class Report(MethodView):
    @requires(*READERS)
    @blp.arguments(ReportQuery, location="query")
    @blp.response(200, ReportView)
    def get(self, query: dict[str, Any], year: int, department_id: Any) -> Any:
        """The department's annual statistics report (due 31 January): JSON, CSV or XLSX."""
        department = _department(year, department_id)
        runtime = _runtime()
        with runtime.engine.connect() as conn:
            table = annual_report(assessments_of(runtime), conn, year, department)
        if query["format"] != "json":
            return _download(table, query["format"], f"report-{year}-{department}")
        rows = [[c.isoformat() if isinstance(c, date) else c for c in row] for row in table.rows]
        return {"title": table.title, "headers": list(table.headers), "rows": rows}
