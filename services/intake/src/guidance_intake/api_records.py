"""intake's records over HTTP: the ledger (台账), the printable guidance document, and batch import.

These are the paper side of guidance: what a department files, hands to the counterpart and receives
from the offices that still keep their acts in spreadsheets. Access is the same as for the JSON API:
a caller sees and acts for its own departments only, and another department's records read as 404.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

from flask import Response, current_app, render_template, request
from flask.views import MethodView
from flask_smorest import Blueprint

from guidance_intake import handlers, ledger
from guidance_intake.adapters.spreadsheets import file_problem, read_table
from guidance_intake.batch_import import MAX_ROWS, Importer
from guidance_intake.documents import guidance_document
from guidance_intake.record_schemas import DocumentQuery, ImportQuery, ImportReport, LedgerQuery
from guidance_intake.service import intake_of
from guidance_shared.auth import (
    ADMIN,
    AUDITOR,
    OFFICER,
    READERS,
    SUPERVISOR,
    current_principal,
    ensure_department,
    load_own,
    requires,
)
from guidance_shared.errors import GuidanceError, NotFound
from guidance_shared.spreadsheets import CSV_TYPE, XLSX_TYPE, to_csv, to_xlsx
from guidance_shared.web import current_request_id, current_tx, idempotent
from guidance_shared.web.app import DEFAULT_MAX_CONTENT_LENGTH

LEDGER_READERS = (OFFICER, SUPERVISOR, AUDITOR, ADMIN)
HTML_TYPE = "text/html"
# A printed document carries a counterpart's particulars: never cached, and nothing may run in it.
DOCUMENT_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
}

ledger_blp = Blueprint("ledger", __name__, url_prefix="/v1/ledger", description="台账 the ledger of guidance acts")
records_blp = Blueprint(
    "guidance_records",
    __name__,
    url_prefix="/v1/guidance",
    description="行政指导书 printable documents and 批量导入 batch import",
    template_folder="templates",
)
BLUEPRINTS = (ledger_blp, records_blp)


def _intake() -> handlers.Intake:
    return intake_of(current_app.extensions["guidance"]["runtime"])


# -- the ledger ---------------------------------------------------------------------------------
@ledger_blp.route("")
class Ledger(MethodView):
    @requires(*LEDGER_READERS)
    @ledger_blp.arguments(LedgerQuery, location="query")
    @ledger_blp.doc(
        responses={
            "200": {
                "description": "台账: CSV (UTF-8 with BOM) or XLSX, one row per guidance act issued in the range",
                "content": {CSV_TYPE: {"schema": {"type": "string"}}, XLSX_TYPE: {"schema": {"type": "string"}}},
            }
        }
    )
    def get(self, query: dict[str, Any]) -> Response:
        """The ledger of a department for the acts issued from ``from`` to ``to``, as CSV or XLSX.

        Another department's ledger, or one not configured, is a 404 like any record the caller may not read.
        """
        department_id = str(query["department_id"])
        missing = NotFound("department", "部门", department_id)
        ensure_department(department_id, not_found=missing)
        department = _intake().departments.get(department_id)
        if department is None:
            raise missing
        first, last = query["from_"], query["to"]
        with current_app.extensions["guidance"]["runtime"].engine.connect() as conn:
            lines = ledger.ledger_lines(conn, department.department_id, first, last)
        kind = query["format"] or _negotiated_format()
        name = f"{department.short_name}台账_{first.isoformat()}_{last.isoformat()}.{kind}"
        if kind == "xlsx":
            body, mimetype = to_xlsx(ledger.HEADERS, lines, title="台账"), XLSX_TYPE
        else:
            body, mimetype = to_csv(ledger.HEADERS, lines), CSV_TYPE
        response = Response(body, mimetype=mimetype)
        response.headers["Content-Disposition"] = _attachment(name, first, last, kind)
        response.headers["Cache-Control"] = "no-store"
        response.vary.add("Accept")
        return response


def _negotiated_format() -> str:
    """CSV unless the Accept header prefers XLSX; neither acceptable is a 406."""
    if not request.accept_mimetypes:
        return "csv"
    best = request.accept_mimetypes.best_match([CSV_TYPE, XLSX_TYPE])
    if best is None:
        raise GuidanceError(
            code="not-acceptable",
            title_en="Not acceptable",
            title_zh="无法提供所需格式",
            status=406,
            detail_en=f"The ledger is served as {CSV_TYPE} or {XLSX_TYPE}; accept one or pass format=csv|xlsx.",
            detail_zh=f"台账以 {CSV_TYPE} 或 {XLSX_TYPE} 格式提供，请在 Accept 中接受其一，或使用 format=csv|xlsx。",
        )
    return "xlsx" if best == XLSX_TYPE else "csv"


def _attachment(name: str, first: date, last: date, kind: str) -> str:
    """RFC 6266: an ASCII fallback for old clients, the Chinese name in ``filename*``."""
    return (
        f"attachment; filename=\"ledger_{first.isoformat()}_{last.isoformat()}.{kind}\"; filename*=UTF-8''{quote(name)}"
    )


# -- the printable document -----------------------------------------------------------------------
@records_blp.route("/<uuid:guidance_id>/document")
class GuidanceDocumentView(MethodView):
    @requires(*READERS)
    @records_blp.arguments(DocumentQuery, location="query")
    @records_blp.doc(
        responses={"200": {"description": "行政指导书 as printable HTML (A4)", "content": {HTML_TYPE: {}}}}
    )
    def get(self, _query: dict[str, Any], guidance_id: Any) -> Response:
        """The guidance document (行政指导书) in the unified format, ready to print and serve."""
        guidance = load_own(
            lambda: handlers.load_guidance(_intake(), str(guidance_id)),
            NotFound("guidance act", "行政指导", str(guidance_id)),
        )
        document = guidance_document(guidance, _intake().departments.get(guidance.department_id))
        html = render_template("guidance_document.html", doc=document)
        return Response(html, mimetype=HTML_TYPE, headers=DOCUMENT_HEADERS)


# -- batch import ------------------------------------------------------------------------------------
@records_blp.route("/import")
class GuidanceImport(MethodView):
    @requires(OFFICER, ADMIN)
    @records_blp.arguments(ImportQuery, location="query")
    @records_blp.doc(
        requestBody={
            "description": f"A CSV or XLSX sheet, at most {DEFAULT_MAX_CONTENT_LENGTH // 1024 // 1024} MiB "
            f"and {MAX_ROWS} rows, headed by the Chinese column names",
            "content": {
                "multipart/form-data": {
                    "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
                },
                CSV_TYPE: {"schema": {"type": "string"}},
                XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    )
    @idempotent
    @records_blp.response(200, ImportReport)
    def post(self, query: dict[str, Any]) -> Any:
        """Import guidance acts (批量导入) row by row; the report says, per row, what was issued or what was wrong.

        The rows take savepoints inside the request's one transaction: good rows are issued even when others
        fail, and a retry with the same Idempotency-Key returns the stored report instead of issuing again.
        """
        principal = current_principal()
        importer = Importer(
            intake=_intake(),
            conn=current_tx(),
            may_access=principal.may_access,
            dry_run=query["dry_run"],
            correlation_id=current_request_id(),
        )
        return importer.run(read_table(_uploaded(), max_rows=MAX_ROWS))


def _uploaded() -> bytes:
    """The sheet: the multipart field ``file``, or the whole body sent as CSV or XLSX."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise file_problem(
                "Send the sheet in the multipart field named file.", "请在名为 file 的表单字段中上传文件。"
            )
        data = upload.read(DEFAULT_MAX_CONTENT_LENGTH + 1)
    elif request.mimetype in (CSV_TYPE, XLSX_TYPE):
        data = request.get_data()
    else:
        raise GuidanceError(
            code="unsupported-media-type",
            title_en="Unsupported media type",
            title_zh="不支持的媒体类型",
            status=415,
            detail_en=f"Send multipart/form-data with a file field, or a {CSV_TYPE} or {XLSX_TYPE} body.",
            detail_zh=f"请以 multipart/form-data 的 file 字段上传，或以 {CSV_TYPE}、{XLSX_TYPE} 作为请求体提交。",
        )
    if len(data) > DEFAULT_MAX_CONTENT_LENGTH:
        raise file_problem("The file is larger than 2 MiB; split it.", "文件超过 2 MiB，请拆分后分批导入。", status=413)
    return data
