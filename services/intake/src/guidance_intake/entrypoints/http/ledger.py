"""The ledger (台账) over HTTP: a department's guidance acts of a date range, as CSV or XLSX.

Access is the same as for the JSON API: a caller reads the ledgers of its own departments only, and
another department's ledger reads as 404.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any
from urllib.parse import quote

from flask import Response, request, stream_with_context
from flask.views import MethodView

from guidance_intake.adapters import queries, read_model
from guidance_intake.domain import ledger
from guidance_intake.domain.ledger import LedgerCell
from guidance_intake.entrypoints.http import context
from guidance_intake.entrypoints.http.record_schemas import LedgerQuery
from guidance_shared.auth import ADMIN, AUDITOR, OFFICER, SUPERVISOR, ensure_department, requires
from guidance_shared.errors import GuidanceError, NotFound
from guidance_shared.spreadsheets import CSV_TYPE, XLSX_TYPE, to_csv, to_xlsx
from guidance_shared.web import Blueprint
from guidance_shared.web.access_log import record_read

LEDGER_READERS = (OFFICER, SUPERVISOR, AUDITOR, ADMIN)

ledger_blp = Blueprint("ledger", __name__, url_prefix="/v1/ledger", description="台账 the ledger of guidance acts")


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
    def get(self, query: Mapping[str, Any]) -> Response:
        """The ledger of a department for the acts issued from ``from`` to ``to``, as CSV or XLSX.

        Another department's ledger, or one not configured, is a 404 like any record the caller may not read.
        """
        department_id = str(query["department_id"])
        missing = NotFound("department", "部门", department_id)
        ensure_department(department_id, not_found=missing)
        department = context.deps().departments.get(department_id)
        if department is None:
            raise missing
        first, last = query["from_"], query["to"]
        kind = query["format"] or _negotiated_format()
        name = f"{department.short_name}台账_{first.isoformat()}_{last.isoformat()}.{kind}"

        # One entry for the whole export, with its size: a ledger names the persons among its counterparts.
        with context.reading() as conn:
            count = queries.ledger_count(conn, department.department_id, first, last)
        record_read("getLedger", count=count)

        def lines() -> Iterator[tuple[LedgerCell, ...]]:
            personal = context.deps().personal
            # The keys are read on a connection of their own: ``conn`` is busy streaming the rows.
            with context.reading() as conn, context.reading() as keys_conn:
                opener = personal.opener(keys_conn) if personal is not None else None
                for record in queries.ledger_records(conn, department.department_id, first, last):
                    if opener is not None:  # a person's name is kept sealed: opened for this export only
                        name = read_model.loaded_text(record["counterpart_name"])
                        record = {**record, "counterpart_name": opener.text(name, "GuidanceIssued", "counterpart.name")}
                    yield ledger.ledger_line(record)

        if kind == "xlsx":  # a workbook is one zip: built whole, from rows read one at a time
            response = Response(to_xlsx(ledger.HEADERS, lines(), title="台账"), mimetype=XLSX_TYPE)
        else:  # streamed while it is read: up to three years of acts never sit in memory at once
            response = Response(stream_with_context(_csv(lines())), mimetype=CSV_TYPE)
        response.headers["Content-Disposition"] = _attachment(name, first, last, kind)
        response.headers["Cache-Control"] = "no-store"
        response.vary.add("Accept")
        return response


def _csv(lines: Iterator[tuple[LedgerCell, ...]], chunk: int = 500) -> Iterator[bytes]:
    """``to_csv`` of every line, ``chunk`` lines at a time: the BOM and the header once, then each chunk's
    lines as ``to_csv`` writes them (its output after the header it repeats)."""
    head = to_csv(ledger.HEADERS, [])
    yield head
    batch: list[tuple[LedgerCell, ...]] = []
    for line in lines:
        batch.append(line)
        if len(batch) == chunk:
            yield to_csv(ledger.HEADERS, batch)[len(head) :]
            batch = []
    if batch:
        yield to_csv(ledger.HEADERS, batch)[len(head) :]


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
