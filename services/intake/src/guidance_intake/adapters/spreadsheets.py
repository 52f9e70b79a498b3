"""Spreadsheets in and out: CSV and XLSX as county offices exchange them (Excel, WPS).

Writing guards every text cell against formula injection: a cell that a spreadsheet would take for a
formula (``=``, ``+``, ``-``, ``@``, tab, carriage return) gets a leading ``'``, so opening a ledger
can never run what a counterpart's name or a matter contained. Reading undoes exactly that guard, so a
guarded cell comes back as it was written.

Reading is for untrusted uploads: sizes are checked before parsing, an XLSX is refused when it would
unpack to far more than it weighs (a zip bomb), and a CSV saved by Excel in GB18030 (the default of a
Chinese Windows) is read as well as UTF-8.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from guidance_shared.errors import FieldProblem, GuidanceError

CSV_TYPE = "text/csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: What one written cell may hold; ``None`` is an empty cell.
Cell = str | date | None
#: What one read cell holds: text (stripped, "" when empty), or a date or time from an XLSX.
ReadCell = str | date

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = "yyyy-mm-dd"
_MAX_WIDTH = 60
_MIN_WIDTH = 8
# An XLSX is deflated XML; 2 MiB that unpacks beyond this is a bomb, not a ledger.
_MAX_UNPACKED = 64 * 1024 * 1024


def guard_formula(text: str) -> str:
    """``'`` before text a spreadsheet would evaluate (OWASP CSV injection)."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def unguard_formula(text: str) -> str:
    """The inverse of :func:`guard_formula`, for cells coming back in an import."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_TRIGGERS) else text


# -- writing ---------------------------------------------------------------------------------
def to_csv(headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """UTF-8 with a BOM (so Excel reads Chinese), CRLF line ends, dates as YYYY-MM-DD."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_csv_text(cell) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(headers: Sequence[str], rows: Iterable[Sequence[Cell]], *, title: str) -> bytes:
    """One sheet: bold frozen header, filter, dates as real dates, widths fitted to the text."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title[:31]  # Excel's limit on a sheet name
    sheet.append(list(headers))
    widths = [_display_width(h) for h in headers]
    for row in rows:
        sheet.append([_xlsx_value(cell) for cell in row])
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], _display_width(cell))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(vertical="center", horizontal="center")
    for column in sheet.iter_cols(min_row=2):
        for cell in column:
            if isinstance(cell.value, date):
                cell.number_format = DATE_FORMAT
            cell.alignment = Alignment(vertical="top", wrap_text=True)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, _MIN_WIDTH), _MAX_WIDTH)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _csv_text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, date):
        return cell.isoformat()
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
    return max((sum(2 if ord(ch) > 0x2E7F else 1 for ch in line) for line in cell.splitlines()), default=0)


# -- reading ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sheet:
    """An uploaded table: its header row and its non-blank data rows with their row numbers (header = 1)."""

    headers: tuple[str, ...]
    rows: tuple[tuple[int, tuple[ReadCell, ...]], ...]


def read_table(data: bytes, *, max_rows: int) -> Sheet:
    """Parse CSV or XLSX (told apart by content, not by the declared type); refuse more than ``max_rows``."""
    lines = _xlsx_lines(data) if data.startswith(b"PK\x03\x04") else _csv_lines(data)
    try:
        first = next(lines)
    except StopIteration:
        raise file_problem("The file is empty.", "文件为空。") from None
    headers = tuple(_header(cell) for cell in first)
    rows: list[tuple[int, tuple[ReadCell, ...]]] = []
    for number, line in enumerate(lines, start=2):
        cells = tuple(line)
        if all(cell == "" for cell in cells):
            continue
        if len(rows) == max_rows:
            raise file_problem(
                f"The file has more than {max_rows} rows; split it.",
                f"文件超过 {max_rows} 行，请拆分后分批导入。",
            )
        rows.append((number, cells))
    return Sheet(headers, tuple(rows))


def file_problem(en: str, zh: str, *, status: int = 422) -> GuidanceError:
    """The upload as a whole cannot be read; the ``file`` field is named."""
    return GuidanceError(
        code="import-file-invalid",
        title_en="The file cannot be imported",
        title_zh="文件无法导入",
        status=status,
        detail_en=en,
        detail_zh=zh,
        fields=[FieldProblem("file", en, zh)],
    )


def _header(cell: ReadCell) -> str:
    return str(cell).strip().lstrip("\ufeff").strip().rstrip("*＊").strip()


def _csv_lines(data: bytes) -> Iterator[list[ReadCell]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes nearly any byte string
        raise file_problem("The CSV is neither UTF-8 nor GB18030 text.", "CSV 文件不是 UTF-8 或 GB18030 编码的文本。")
    try:
        for line in csv.reader(io.StringIO(text, newline="")):
            yield [unguard_formula(cell.strip()) for cell in line]
    except csv.Error as exc:
        raise file_problem(f"The CSV is malformed: {exc}.", f"CSV 格式错误：{exc}。") from None


def _xlsx_lines(data: bytes) -> Iterator[list[ReadCell]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise file_problem("The XLSX file is damaged.", "XLSX 文件已损坏。") from None
    if unpacked > _MAX_UNPACKED:
        raise file_problem("The XLSX file unpacks to too much data.", "XLSX 文件解压后过大。")
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # any failure to parse an uploaded workbook is the upload's fault, not ours
        raise file_problem("Not a readable XLSX workbook.", "不是可读取的 XLSX 工作簿。") from None
    try:
        for values in workbook.worksheets[0].iter_rows(values_only=True):
            yield [_xlsx_cell(value) for value in values]
    finally:
        workbook.close()


def _xlsx_cell(value: Any) -> ReadCell:
    if value is None:
        return ""
    if isinstance(value, date):  # datetime included
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return unguard_formula(str(value).strip())
