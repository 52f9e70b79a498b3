"""Errors that speak to the caller: each knows its HTTP status, field and both languages.

Domain code raises these; the web kit turns them into RFC 9457 problems in one
place, so no handler formats an error response by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FieldProblem:
    """One field that was wrong, what was wrong, in Chinese and English."""

    field: str
    message_en: str
    message_zh: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message_en": self.message_en, "message_zh": self.message_zh}


@dataclass
class GuidanceError(Exception):
    """Base of every error a client can cause; never a 500."""

    code: str
    title_en: str
    title_zh: str
    status: int = 400
    detail_en: str = ""
    detail_zh: str = ""
    fields: list[FieldProblem] = field(default_factory=list)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.detail_en or self.title_en)


class ConcurrencyError(GuidanceError):
    """An append was made against a version of the stream that is no longer current."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(
            code="version-conflict",
            title_en="Version conflict",
            title_zh="版本冲突",
            status=409,
            detail_en=(
                f"Record {stream_id} is at version {actual}, not {expected}; reload it and apply your change again."
            ),
            detail_zh=f"记录 {stream_id} 当前版本为 {actual}，而非 {expected}；请重新读取后再提交修改。",
            extra={"stream_id": stream_id, "expected_version": expected, "current_version": actual},
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class NotFound(GuidanceError):
    def __init__(self, what_en: str, what_zh: str, ident: str) -> None:
        super().__init__(
            code="not-found",
            title_en="Not found",
            title_zh="未找到",
            status=404,
            detail_en=f"No {what_en} with id {ident}.",
            detail_zh=f"未找到编号为 {ident} 的{what_zh}。",
        )
