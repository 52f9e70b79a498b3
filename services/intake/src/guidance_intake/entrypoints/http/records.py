"""intake's paper records over HTTP: the printable guidance document, and batch import from spreadsheets.

These are the paper side of guidance: what a department hands to the counterpart and receives from the
offices that still keep their acts in spreadsheets. Access is the same as for the JSON API: a caller sees
and acts for its own departments only, and another department's records read as 404.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Response, render_template, request
from flask.views import MethodView

from guidance_intake.adapters.spreadsheets import file_problem, read_table
from guidance_intake.domain.documents import guidance_document
from guidance_intake.entrypoints.batch_import import MAX_ROWS, Importer, template
from guidance_intake.entrypoints.http import context
from guidance_intake.entrypoints.http.guidance import own_guidance
from guidance_intake.entrypoints.http.record_schemas import DocumentQuery, ImportQuery, ImportReport, TemplateQuery
from guidance_shared.auth import ADMIN, OFFICER, READERS, current_principal, requires
from guidance_shared.errors import GuidanceError
from guidance_shared.spreadsheets import CSV_TYPE, XLSX_TYPE, to_csv, to_xlsx
from guidance_shared.web import Blueprint, current_tx, idempotent
from guidance_shared.web.app import DEFAULT_MAX_CONTENT_LENGTH

HTML_TYPE = "text/html"
# A printed document carries a counterpart's particulars: never cached, and nothing may run in it.
DOCUMENT_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
}
# The package's templates/ folder (the blueprint's module lives two packages below it).
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

records_blp = Blueprint(
    "guidance_records",
    __name__,
    url_prefix="/v1/guidance",
    description="行政指导书 printable documents and 批量导入 batch import",
    template_folder=str(TEMPLATES),
)


# -- the printable document -----------------------------------------------------------------------
@records_blp.route("/<uuid:guidance_id>/document")
class GuidanceDocumentView(MethodView):
    @requires(*READERS)
    @records_blp.arguments(DocumentQuery, location="query")
    @records_blp.doc(
        responses={"200": {"description": "行政指导书 as printable HTML (A4)", "content": {HTML_TYPE: {}}}}
    )
    def get(self, _query: Mapping[str, Any], guidance_id: object) -> Response:
        """The guidance document (行政指导书) in the unified format, ready to print and serve."""
        guidance = own_guidance(guidance_id)
        context.record_person_read("getGuidanceDocumentView", guidance.details, guidance.guidance_id)
        shown = context.shown_guidance(guidance)
        document = guidance_document(shown, context.deps().departments.get(guidance.department_id))
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
            f"and {MAX_ROWS} rows, headed by the Chinese column names (a second row of the columns' codes, as "
            "in the template from GET /v1/guidance/import/template, is recognised and skipped)",
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
    def post(self, query: Mapping[str, Any]) -> Any:
        """Import guidance acts (批量导入) row by row; the report says, per row, what was issued or what was wrong.

        The rows take savepoints inside the request's one transaction: good rows are issued even when others
        fail, and a retry with the same Idempotency-Key returns the stored report instead of issuing again.
        """
        principal = current_principal()
        importer = Importer(
            deps=context.deps(),
            conn=current_tx(),
            may_access=principal.may_access,
            dry_run=query["dry_run"],
        )
        return importer.run(read_table(_uploaded(), max_rows=MAX_ROWS))


@records_blp.route("/import/template")
class GuidanceImportTemplate(MethodView):
    @requires(OFFICER, ADMIN)
    @records_blp.arguments(TemplateQuery, location="query")
    @records_blp.doc(
        responses={
            "200": {
                "description": "The import template: the Chinese header of every column the import reads (the "
                "required ones first), a second row of the columns' codes (the fields of POST /v1/guidance they "
                "fill), and one example row (a 轻微问题警示 of one of the caller's departments) that imports as is",
                "content": {
                    CSV_TYPE: {"schema": {"type": "string"}},
                    XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
                },
            }
        }
    )
    def get(self, query: Mapping[str, Any]) -> Response:
        """The batch-import template (批量导入模板), CSV (UTF-8 with BOM) or XLSX, built from the columns the
        import itself reads."""
        principal = current_principal()
        departments = list(context.deps().departments)
        own = next((d for d in departments if principal.may_access(d.department_id)), None)
        headers, codes, example = template(own.name if own is not None else "")
        kind = query["format"]
        if kind == "xlsx":
            body = to_xlsx(headers, [example], title="批量导入模板", codes=codes)
        else:
            body = to_csv(headers, [example], codes=codes)
        response = Response(body, mimetype=XLSX_TYPE if kind == "xlsx" else CSV_TYPE)
        response.headers["Content-Disposition"] = (
            f'attachment; filename="guidance-import-template.{kind}"; '
            f"filename*=UTF-8''{quote(f'行政指导批量导入模板.{kind}')}"
        )
        return response


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
