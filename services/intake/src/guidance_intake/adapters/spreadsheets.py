"""Spreadsheets in: CSV and XLSX uploads as county offices exchange them (Excel, WPS).

Writing is ``guidance_shared.spreadsheets`` (it guards every text cell against formula injection);
reading undoes exactly that guard (``unguard_formula``), so a guarded cell comes back as written.

Reading is for untrusted uploads: sizes are checked before parsing, an XLSX is refused when it would
unpack to far more than it weighs (a zip bomb), and a CSV saved by Excel in GB18030 (the default of a
Chinese Windows) is read as well as UTF-8.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import openpyxl

from guidance_shared.errors import FieldProblem, GuidanceError
from guidance_shared.spreadsheets import unguard_formula

#: What one read cell holds: text (stripped, "" when empty), or a date or time from an XLSX.
ReadCell = str | date
# An XLSX is deflated XML; 2 MiB that unpacks beyond this is a bomb, not a ledger.
_MAX_UNPACKED = 64 * 1024 * 1024


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
        _storable(number, headers, cells)
        rows.append((number, cells))
    return Sheet(headers, tuple(rows))


def _storable(number: int, headers: tuple[str, ...], cells: tuple[ReadCell, ...]) -> None:
    """Refuse a cell holding NUL or a lone surrogate (an XLSX can spell them ``_x0000_``, ``_xD800_``): the
    event store could not hash it, nor PostgreSQL store it. The file is refused, naming the cell."""
    for index, cell in enumerate(cells):
        if not isinstance(cell, str):
            continue
        try:
            cell.encode("utf-8")
            clean = "\x00" not in cell
        except UnicodeEncodeError:
            clean = False
        if not clean:
            column = headers[index] if index < len(headers) else str(index + 1)
            raise file_problem(
                f"Row {number}, column {column}: the cell holds a NUL or a lone surrogate, which is not text.",
                f"第 {number} 行“{column}”列含有空字符或孤立代理码位，不是合法文本。",
            )


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
