"""Spreadsheets out: CSV and XLSX as county offices open them (Excel, WPS), for every service's exports.

Every text cell a spreadsheet would take for a formula (``=``, ``+``, ``-``, ``@``, tab, carriage
return) gets a leading ``'`` (OWASP CSV injection), so opening a ledger or an export can never run
what a counterpart's name or a matter contained. intake's import undoes exactly that guard.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

CSV_TYPE = "text/csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: What one written cell may hold; ``None`` is an empty cell, numbers stay numbers in XLSX.
Cell = str | int | float | date | None

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = "yyyy-mm-dd"
_MAX_WIDTH = 60
_MIN_WIDTH = 8


def guard_formula(text: str) -> str:
    """``'`` before text a spreadsheet would evaluate (OWASP CSV injection)."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def unguard_formula(text: str) -> str:
    """The inverse of :func:`guard_formula`, for cells coming back in an import."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_TRIGGERS) else text


# -- writing ---------------------------------------------------------------------------------
def to_csv(headers: Sequence[str], rows: Iterable[Sequence[Cell]], *, codes: Sequence[str] | None = None) -> bytes:
    """UTF-8 with a BOM (so Excel reads Chinese), CRLF line ends, dates as YYYY-MM-DD; ``codes``, when
    given, is a second header row of stable column keys for programs that read the file."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    if codes is not None:
        writer.writerow(codes)
    for row in rows:
        writer.writerow([_csv_text(cell) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(
    headers: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    *,
    title: str,
    codes: Sequence[str] | None = None,
    hidden: Sequence[int] = (),
) -> bytes:
    """One sheet: bold frozen header, filter, dates as real dates, widths fitted to the text. ``codes``
    adds a second, grey header row of stable column keys; ``hidden`` (0-based) columns are written but
    hidden, for what a program needs and a reader does not (an id beside a name)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title[:31]  # Excel's limit on a sheet name
    sheet.append(list(headers))
    header_rows = 1
    if codes is not None:
        sheet.append(list(codes))
        header_rows = 2
    widths = [_display_width(h) for h in headers]
    for row in rows:
        sheet.append([_xlsx_value(cell) for cell in row])
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], _display_width(cell))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(vertical="center", horizontal="center")
    if codes is not None:
        for cell in sheet[2]:
            cell.font = Font(color="808080", size=9)
    for column in sheet.iter_cols(min_row=header_rows + 1):
        for cell in column:
            if isinstance(cell.value, date):
                cell.number_format = DATE_FORMAT
            cell.alignment = Alignment(vertical="top", wrap_text=True)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, _MIN_WIDTH), _MAX_WIDTH)
    for index in hidden:
        sheet.column_dimensions[get_column_letter(index + 1)].hidden = True
    sheet.freeze_panes = f"A{header_rows + 1}"
    # the filter's buttons sit on the last header row, so the codes are never filtered as data
    sheet.auto_filter.ref = f"A{header_rows}:{get_column_letter(sheet.max_column)}{sheet.max_row}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _csv_text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, int | float):
        return str(cell)
    return guard_formula(cell)


def _xlsx_value(cell: Cell) -> Any:
    if isinstance(cell, str):
        return ILLEGAL_CHARACTERS_RE.sub("", guard_formula(cell))
    return cell


def _display_width(cell: Cell) -> int:
    """Columns of the longest line: a Chinese character takes two."""
    if cell is None:
        return 0
    if isinstance(cell, date):
        return 10
    if isinstance(cell, int | float):
        return len(str(cell))
    return max((sum(2 if ord(ch) > 0x2E7F else 1 for ch in line) for line in cell.splitlines()), default=0)
