"""Tables out as CSV and XLSX, as county offices open them (Excel, WPS).

Every text cell a spreadsheet would take for a formula (``=``, ``+``, ``-``, ``@``, tab, CR) gets a
leading ``'`` (OWASP CSV injection), though everything here is figures and ids the service computed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date

import openpyxl
from openpyxl.styles import Font

CSV_TYPE = "text/csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Cell = str | int | float | date | None
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _guard(cell: Cell) -> Cell:
    if isinstance(cell, str) and cell.startswith(FORMULA_TRIGGERS):
        return "'" + cell
    return cell


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """UTF-8 with a BOM (so Excel reads Chinese), CRLF line ends, dates as YYYY-MM-DD."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if c is None else (c.isoformat() if isinstance(c, date) else _guard(c)) for c in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(headers: Sequence[str], rows: Iterable[Sequence[Cell]], *, title: str) -> bytes:
    """One sheet with a bold, frozen header; numbers stay numbers."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    sheet.append(list(headers))
    for row in rows:
        sheet.append([_guard(c) for c in row])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
