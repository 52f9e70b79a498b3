"""保管期限 (retention periods) of archival items, per kind of item: what the department registry may set.

Kept apart from ``archive`` so the registry can check its ``archive_retention`` without importing the
documents the archive renders.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from guidance_shared.vocabulary import CONTENT_TYPES

# 保管期限 codes of DA/T 22 §6.3: 永久, 定期30年, 定期10年.
RETENTION_PERIODS: Mapping[str, str] = {"Y": "永久", "D30": "定期30年", "D10": "定期10年"}
CASE = "case"
MAJOR_CASE = "major_case"
ITEM_KINDS: tuple[str, ...] = (*CONTENT_TYPES, CASE, MAJOR_CASE)
# A major case (重大执法决定, legal review required) is kept forever; an ordinary case thirty years; guidance that
# summons or revisits (约谈, 重大案件回访) thirty years, the rest of guidance ten.
DEFAULT_RETENTION: Mapping[str, str] = {
    **{kind: "D10" for kind in CONTENT_TYPES},
    "supervisory_admonition": "D30",
    "major_case_revisit": "D30",
    CASE: "D30",
    MAJOR_CASE: "Y",
}


def retention_problems(retention: Mapping[str, Any]) -> list[str]:
    """What is wrong with a configured ``archive_retention`` mapping; empty when it is usable."""
    problems = []
    unknown = sorted(set(map(str, retention)) - set(ITEM_KINDS))
    if unknown:
        problems.append(
            f"archive_retention: unknown item kind(s) {', '.join(unknown)}; allowed: {', '.join(ITEM_KINDS)}"
        )
    bad = sorted(f"{kind}={period}" for kind, period in retention.items() if str(period) not in RETENTION_PERIODS)
    if bad:
        problems.append(
            f"archive_retention: unknown period(s) {', '.join(bad)}; allowed: {', '.join(RETENTION_PERIODS)}"
        )
    return problems


def fonds_problems(fonds_code: str) -> list[str]:
    """A 全宗号 must be printable in the 档号: not blank, no hyphen (the 档号's separator), no spaces."""
    if not fonds_code.strip() or "-" in fonds_code or any(ch.isspace() for ch in fonds_code) or len(fonds_code) > 20:
        return [f"fonds_code {fonds_code!r} must be 1 to 20 characters without hyphens or spaces"]
    return []
