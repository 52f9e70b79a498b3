"""Validation messages in both languages: marshmallow speaks English, county staff read Chinese.

marshmallow's standard messages are translated by pattern, so numbers and
choices carry over; a service adds its own validators' messages with
:func:`register_translation`. Anything unknown falls back to a generic phrase
rather than English in the ``message_zh`` slot.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from guidance_shared.errors import FieldProblem

FALLBACK_ZH = "字段取值无效"

_COMPARISONS = {
    "greater than or equal to": "大于等于",
    "greater than": "大于",
    "less than or equal to": "小于等于",
    "less than": "小于",
}
_OP = "(greater than or equal to|greater than|less than or equal to|less than)"

_Translator = Callable[[re.Match[str]], str]


def _fixed(zh: str) -> _Translator:
    return lambda _m: zh


def _range(m: re.Match[str]) -> str:
    first = f"{_COMPARISONS[m[1]]} {m[2]}"
    if m[3] is None:
        return f"必须{first}。"
    return f"必须{first} 且{_COMPARISONS[m[3]]} {m[4]}。"


_TABLE: list[tuple[re.Pattern[str], _Translator]] = [
    (re.compile(p), t)
    for p, t in [
        (r"Missing data for required field\.", _fixed("缺少必填字段。")),
        (r"Field may not be null\.", _fixed("字段不能为 null。")),
        (r"Unknown field\.", _fixed("未知字段，不允许提交。")),
        (r"Invalid input type\.", _fixed("输入类型无效，应为 JSON 对象。")),
        (r"Invalid type\.", _fixed("类型无效。")),
        (r"Invalid value\.", _fixed("取值无效。")),
        (r"Invalid input\.", _fixed("输入无效。")),
        (r"Not a valid string\.", _fixed("不是有效的字符串。")),
        (r"Not a valid utf-8 string\.", _fixed("不是有效的 UTF-8 字符串。")),
        (r"Not a valid integer\.", _fixed("不是有效的整数。")),
        (r"Not a valid number\.", _fixed("不是有效的数字。")),
        (r"Number too large\.", _fixed("数值过大。")),
        (r"Special numeric values \(nan or infinity\) are not permitted\.", _fixed("不允许 NaN 或无穷大。")),
        (r"Not a valid boolean\.", _fixed("不是有效的布尔值。")),
        (r"Not a valid UUID\.", _fixed("不是有效的 UUID。")),
        (r"Not a valid date\.", _fixed("不是有效的日期（YYYY-MM-DD）。")),
        (r"Not a valid datetime\.", _fixed("不是有效的日期时间（ISO 8601）。")),
        (r"Not a valid aware datetime\.", _fixed("不是有效的带时区日期时间。")),
        (r"Not a valid naive datetime\.", _fixed("不是有效的不带时区日期时间。")),
        (r"Not a valid time\.", _fixed("不是有效的时间。")),
        (r"Not a valid period of time\.", _fixed("不是有效的时间段。")),
        (r"Not a valid email address\.", _fixed("不是有效的电子邮箱地址。")),
        (r"Not a valid URL\.", _fixed("不是有效的网址（URL）。")),
        (r"Not a valid list\.", _fixed("不是有效的列表。")),
        (r"Not a valid tuple\.", _fixed("不是有效的元组。")),
        (r"Not a valid mapping type\.", _fixed("不是有效的对象（映射）。")),
        (r"Not a valid IP(?:v4|v6)? address\.", _fixed("不是有效的 IP 地址。")),
        (r"Must be one of: (.*)\.", lambda m: f"必须是以下取值之一：{m[1]}。"),
        (r"Must be equal to (.*)\.", lambda m: f"必须等于 {m[1]}。"),
        (r"Length must be between (\S+) and (\S+)\.", lambda m: f"长度必须在 {m[1]} 到 {m[2]} 之间。"),
        (r"Length must be at least (\S+)\.", lambda m: f"长度不能少于 {m[1]}。"),
        (r"Length must be at most (\S+)\.", lambda m: f"长度不能超过 {m[1]}。"),
        (r"Length must be (\S+)\.", lambda m: f"长度必须为 {m[1]}。"),
        (r"Shorter than minimum length (\S+)\.", lambda m: f"长度不能少于 {m[1]}。"),
        (r"Longer than maximum length (\S+)\.", lambda m: f"长度不能超过 {m[1]}。"),
        (rf"Must be {_OP} (.+?)(?: and {_OP} (.+))?\.", _range),
    ]
]
_EXACT: dict[str, str] = {}


def register_translation(message_en: str, message_zh: str) -> None:
    """Teach the kit the Chinese for a service's own validator message (exact match)."""
    _EXACT[message_en] = message_zh


_BILINGUAL = re.compile(r"^(?P<en>[^\u4e00-\u9fff]+?)\s+(?P<zh>[\u4e00-\u9fff（《“].*)$", re.DOTALL)


def split_bilingual(message: str) -> tuple[str, str] | None:
    """Our own rules write "English. 中文。" in one message; give each language its part."""
    match = _BILINGUAL.match(message)
    if match is None:
        return None
    return match.group("en").strip(), match.group("zh").strip()


def translate(message_en: str) -> str:
    """Chinese for a marshmallow message; the generic phrase when unknown."""
    if message_en in _EXACT:
        return _EXACT[message_en]
    for pattern, translator in _TABLE:
        match = pattern.fullmatch(message_en)
        if match:
            return translator(match)
    return FALLBACK_ZH


def field_problems(messages: Any, root: str = "") -> list[FieldProblem]:
    """Flatten marshmallow's nested messages to dotted paths (``legal_basis.0.article``).

    ``_schema`` (whole-object) errors belong to the enclosing path, or to ``root``.
    """
    problems: list[FieldProblem] = []
    _collect(messages, [], root, problems)
    return problems


def _collect(messages: Any, path: list[str], root: str, out: list[FieldProblem]) -> None:
    if isinstance(messages, Mapping):
        for key, nested in messages.items():
            step = [] if key == "_schema" else [str(key)]
            _collect(nested, path + step, root, out)
    elif isinstance(messages, list | tuple):
        for item in messages:
            _collect(item, path, root, out)
    else:
        text = str(messages)
        field = ".".join(path) or root
        both = split_bilingual(text)
        if both is not None:
            out.append(FieldProblem(field=field, message_en=both[0], message_zh=both[1]))
        else:
            out.append(FieldProblem(field=field, message_en=text, message_zh=translate(text)))
