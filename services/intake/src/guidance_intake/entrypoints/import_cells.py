"""Reading the cells of an import sheet: Chinese words or codes, Chinese or ISO dates, lists split by ；.

Each reader takes one cell and returns what the command needs, or raises :class:`CellError` saying, in
both languages, what the column expects. No reader echoes an identity number back.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time

from guidance_intake.adapters.spreadsheets import ReadCell
from guidance_intake.domain.departments import DepartmentRegistry
from guidance_shared.dates import as_moment
from guidance_shared.vocabulary import VOCABULARIES

# Words county offices write for a code besides its vocabulary label.
EXTRA_WORDS: Mapping[str, Mapping[str, str]] = {
    "disclosure_levels": {"不公开": "withheld"},
    "summoned_roles": {"负责人": "person_in_charge"},
    "counterpart_kinds": {"个人": "person"},
}
_LIST_SEPARATORS = re.compile(r"[、,，;；/\s]+")
_ITEM_SEPARATORS = re.compile(r"[;；\r\n]+")
_OFFICER_SEPARATORS = re.compile(r"[;；、,，\r\n]+")
_LEGAL_BASIS = re.compile(r"^(《[^《》]+》)\s*(\S.*)$")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_MOMENT = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:\s*[T ]?\s*(\d{1,2})\s*[:：时点]\s*(\d{1,2})\s*分?(?:\s*[:：]?\s*(\d{1,2})\s*秒?)?)?$"
)


class CellError(ValueError):
    """A cell that cannot be read as what its column holds."""

    def __init__(self, en: str, zh: str) -> None:
        super().__init__(en)
        self.en, self.zh = en, zh


def text(cell: ReadCell) -> str:
    if isinstance(cell, datetime):
        return cell.isoformat(sep=" ")
    if isinstance(cell, date):
        return cell.isoformat()
    return cell


def department(cell: ReadCell, departments: DepartmentRegistry) -> str:
    """A department by its id, or by its name or short name as the registry spells it."""
    wanted = text(cell)
    found = departments.get(wanted) or next((d for d in departments if wanted in (d.name, d.short_name)), None)
    if found is None:
        raise CellError(
            "Not a configured department: give the department's id (UUID) or its name.",
            "不是已配置的部门：请填写部门编号（UUID）或部门名称。",
        )
    return found.department_id


def choice(vocabulary: str) -> Callable[[ReadCell], str]:
    """A code of ``vocabulary`` from its code, its Chinese label or a common synonym."""
    labels = VOCABULARIES[vocabulary]
    words = {**{label: code for code, label in labels.items()}, **EXTRA_WORDS.get(vocabulary, {})}

    def read(cell: ReadCell) -> str:
        written = text(cell).strip()
        if written.lower() in labels:
            return written.lower()
        if written in words:
            return words[written]
        raise CellError(
            f"{written!r} is not one of: {', '.join(labels)}.",
            f"“{written}”不是可选的值，应为{'、'.join(labels.values())}之一（或其英文代码）。",
        )

    return read


def choices(vocabulary: str) -> Callable[[ReadCell], list[str]]:
    """Several codes of ``vocabulary``, separated by 、 ， ； / or spaces."""
    one = choice(vocabulary)
    return lambda cell: [one(part) for part in _LIST_SEPARATORS.split(text(cell)) if part]


def items(cell: ReadCell) -> list[str]:
    """Free-text items separated by ； or line breaks."""
    return [item.strip() for item in _ITEM_SEPARATORS.split(text(cell)) if item.strip()]


def legal_basis(cell: ReadCell) -> list[dict[str, str]]:
    """《法律名称》条款；《法律名称》条款 — each provision named in full."""
    bases = []
    for number, item in enumerate(items(cell), start=1):
        match = _LEGAL_BASIS.match(item)
        if match is None:
            raise CellError(
                f"Item {number} ({item!r}) is not 《instrument》article, "
                "e.g. 《中华人民共和国行政处罚法》第三十三条; separate items with ；.",
                f"第{number}项“{item}”应写作《法律文件名称》条款，如《中华人民共和国行政处罚法》第三十三条；"
                "多项之间用“；”分隔。",
            )
        bases.append({"instrument": match[1], "article": match[2].strip()})
    return bases


def officers(cell: ReadCell) -> list[dict[str, str | None]]:
    """姓名:执法证号；姓名:执法证号 (the badge may be left out)."""
    named: list[dict[str, str | None]] = []
    for item in _OFFICER_SEPARATORS.split(text(cell)):
        name, badge = _pair(item)
        if name:
            named.append({"name": name, "badge_no": badge or None})
    if not named:
        raise CellError(
            "Name at least one officer, e.g. 王立新:豫A0310021.", "请至少填写一名执法人员，如 王立新:豫A0310021。"
        )
    return named


def withheld(cell: ReadCell) -> dict[str, str]:
    """不公开理由 as 类别：说明, e.g. 个人隐私：涉及自然人健康信息."""
    category, reason = _pair(text(cell))
    exemption = choice("exemptions")(category)
    if not reason:
        raise CellError(
            "Give the category and the reason, e.g. 个人隐私：涉及自然人健康信息.",
            "请写明不公开的类别和说明，如“个人隐私：涉及自然人健康信息”。",
        )
    return {"exemption": exemption, "reason": reason}


def yes_no(cell: ReadCell) -> bool:
    answer = text(cell).strip().lower()
    if answer in ("是", "true", "yes", "y", "1"):
        return True
    if answer in ("否", "false", "no", "n", "0"):
        return False
    raise CellError("Write 是 or 否.", "请填写“是”或“否”。")


def day(cell: ReadCell) -> str:
    """A calendar day as YYYY-MM-DD, from a spreadsheet date, 2025-03-12, 2025/3/12 or 2025年3月12日."""
    if isinstance(cell, date):
        return (cell.date() if isinstance(cell, datetime) else cell).isoformat()
    match = _DATE.match(cell.strip())
    try:
        if match:
            return date(int(match[1]), int(match[2]), int(match[3])).isoformat()
        return date.fromisoformat(cell.strip()).isoformat()
    except ValueError:
        raise CellError(
            "Not a date; write 2025-03-12 or 2025年3月12日.", "不是有效的日期，应写作 2025-03-12 或 2025年3月12日。"
        ) from None


def moment(cell: ReadCell) -> str:
    """A time with its offset; a time without one is Beijing time, a bare date is its midnight."""
    if isinstance(cell, datetime):
        when = cell
    elif isinstance(cell, date):
        when = datetime.combine(cell, time())
    else:
        when = _parsed_moment(cell.strip())
    return as_moment(when).isoformat()  # a spreadsheet has no time zones: its times are Beijing time


def _parsed_moment(written: str) -> datetime:
    try:
        match = _MOMENT.match(written)
        if match:
            y, mo, d, h, mi, s = (int(g) if g else 0 for g in match.groups())
            return datetime(y, mo, d, h, mi, s)
        return datetime.fromisoformat(written)
    except ValueError:
        raise CellError(
            "Not a time; write 2025-03-05 10:30 or 2025年3月5日10时30分.",
            "不是有效的时间，应写作 2025-03-05 10:30 或 2025年3月5日10时30分。",
        ) from None


def _pair(written: str) -> tuple[str, str]:
    """``a:b`` or ``a：b`` split at the first colon, both parts stripped; ``b`` is "" when there is none."""
    first, _, rest = re.sub(r"：", ":", written, count=1).partition(":")
    return first.strip(), rest.strip()
